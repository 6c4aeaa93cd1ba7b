// The layout checks of tests/e2e/test_layout.py, run in the page: a list of problems.
// Called with the phone's screen size [width, height] in CSS pixels.
(([vw, vh]) => {
  scrollTo(0, 0);
  const problems = [];
  const clippedAway = (el) => {
    for (let node = el; node && node !== document.body; node = node.parentElement) {
      const box = node.getBoundingClientRect(), style = getComputedStyle(node);
      if ((box.width <= 1 || box.height <= 1) && style.overflow !== "visible") return true;
    }
    return false;
  };
  const shown = (el) => {
    const box = el.getBoundingClientRect();
    return box.width > 1 && box.height > 1 && el.checkVisibility({ visibilityProperty: true })
      && !clippedAway(el);
  };
  const words = (el) => (el.innerText || el.value || el.getAttribute("aria-label") || "")
    .trim().replace(/\s+/g, " ").slice(0, 36);
  const tag = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "");
  const name = (el) => `${tag(el)} "${words(el)}"`;
  const span = (box, from, to) => `${Math.round(box[from])}..${Math.round(box[to])}`;
  const scrollsSideways = (el) => {
    for (let box = el.parentElement; box && box !== document.body; box = box.parentElement) {
      const overflow = getComputedStyle(box).overflowX;
      const rect = box.getBoundingClientRect();
      if ((overflow === "auto" || overflow === "scroll") && box.scrollWidth > box.clientWidth
          && rect.left >= -1 && rect.right <= vw + 1) return true;
    }
    return false;
  };

  const width = document.documentElement.scrollWidth;
  if (width > vw) problems.push(`the page is ${width} px wide`);

  const TEXT = "a, button, input, select, textarea, label, h1, h2, h3, p, li, dt, dd, td, th, "
    + "blockquote, img, svg, [role=status], [role=alert]";
  for (const el of document.querySelectorAll(TEXT)) {
    if (!shown(el) || el.closest(".skip-link")) continue;
    const box = el.getBoundingClientRect();
    if ((box.left < -1 || box.right > vw + 1) && !scrollsSideways(el)) {
      problems.push(`${name(el)} sticks out sideways (${span(box, "left", "right")} of ${vw})`);
    }
    const style = getComputedStyle(el);
    const clips = ["hidden", "clip"].includes(style.overflowX) || el.tagName === "BUTTON";
    const boxed = style.display !== "inline" && !(el instanceof SVGElement)
      && !["INPUT", "SELECT", "TEXTAREA", "IMG"].includes(el.tagName);
    if (clips && boxed && el.scrollWidth > el.clientWidth + 1) {
      problems.push(`${name(el)} is cut: its text needs ${el.scrollWidth} px, `
        + `it has ${el.clientWidth}`);
    }
  }

  // Tap targets of 48 px or more: every button, and every field that is not a tick box.
  const TARGETS = "button, select, input:not([type=checkbox], [type=radio], [type=hidden]), "
    + "a.button, .site-nav a";
  for (const el of document.querySelectorAll(TARGETS)) {
    if (!shown(el) || el.closest(".skip-link")) continue;
    const box = el.getBoundingClientRect();
    if (box.height < 47.5) {
      problems.push(`${name(el)} is a tap target ${Math.round(box.height)} px tall`);
    }
  }

  const onScreen = (box) => box.top >= -1 && box.bottom <= vh + 1
    && box.left >= -1 && box.right <= vw + 1;
  // What covers the middle of el, if that is not el or within `within` (el itself by default).
  const coveredBy = (el, within = el) => {
    const box = el.getBoundingClientRect();
    const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    return !top || within.contains(top) || top.contains(el) ? null : top;
  };
  // Fixed boxes drawn over a sheet; hit testing misses those that let taps through (the notice).
  const overlays = (sheet) => [...document.querySelectorAll("body *")].filter((el) => {
    const style = getComputedStyle(el);
    return style.position === "fixed" && !el.contains(sheet) && !sheet.contains(el) && shown(el)
      && (parseInt(style.zIndex, 10) || 0) >= (parseInt(getComputedStyle(sheet).zIndex, 10) || 0);
  });
  const meet = (el, box) => {
    const other = el.getBoundingClientRect();
    return other.left < box.right && box.left < other.right
      && other.top < box.bottom && box.top < other.bottom;
  };
  for (const sheet of document.querySelectorAll("[role=dialog], .qr.full")) {
    if (!shown(sheet)) continue;
    const style = getComputedStyle(sheet), box = sheet.getBoundingClientRect();
    const scrolls = ["auto", "scroll"].includes(style.overflowY)
      && sheet.scrollHeight > sheet.clientHeight + 1;
    if (scrolls && !onScreen(box)) {
      problems.push(`${tag(sheet)} scrolls, but reaches off the screen `
        + `(${span(box, "top", "bottom")} of ${vh})`);
    }
    for (const part of sheet.querySelectorAll("h2, p, label, button, input, select, textarea")) {
      if (!shown(part)) continue;
      const at = part.getBoundingClientRect();
      const control = part.matches("button, input, select, textarea");
      if (control && !scrolls && !onScreen(at)) {
        problems.push(`${name(part)} in ${tag(sheet)} is off the screen `
          + `(${span(at, "top", "bottom")} of ${vh})`);
      }
      const visible = onScreen(at) && at.top >= box.top && at.bottom <= box.bottom + 1;
      const cover = visible && (coveredBy(part, sheet) || overlays(sheet).find((o) => meet(o, at)));
      if (cover) problems.push(`${name(part)} in ${tag(sheet)} is covered by ${name(cover)}`);
    }
  }

  // A bar that stays on the screen while the page scrolls may take a quarter of it, no more.
  for (const bar of document.querySelectorAll("body *")) {
    const style = getComputedStyle(bar);
    if (!["fixed", "sticky"].includes(style.position) || !shown(bar)) continue;
    if (bar.closest("[role=dialog], .qr.full, [role=status]")) continue;
    const box = bar.getBoundingClientRect();
    if (box.height > vh / 4) {
      problems.push(`${tag(bar)}.${bar.classList[0]} stays on the screen and takes `
        + `${Math.round(box.height)} px of ${vh}`);
    }
  }

  if (document.body.dataset.screen === "counter") {
    const counter = document.getElementById("screen-counter");
    // At the mile, "Finish mile #…" takes the lap button's place as the big primary button.
    const finishMile = counter.querySelector("#finish-mile");
    const primary = finishMile && shown(finishMile) ? finishMile : counter.querySelector("[data-testid=lap-button]");
    const controls = [
      primary,
      counter.querySelector("[data-testid=undo-lap]"),
      [...counter.querySelectorAll("button")].find((b) => b.textContent.trim() === "Add escort"),
      counter.querySelector("[data-testid=finish-run]"),
    ];
    const sheetOpen = [...document.querySelectorAll("[role=dialog]")].some(shown);
    for (const [n, el] of controls.entries()) {
      if (!el || !shown(el)) {
        problems.push(`counter control ${n + 1} of 4 is not shown`);
        continue;
      }
      const box = el.getBoundingClientRect();
      if (!onScreen(box)) {
        problems.push(`${name(el)} is below the fold (${span(box, "top", "bottom")} of ${vh})`);
      }
      if (box.width < 48 || box.height < 48) {
        const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
        problems.push(`${name(el)} is a ${size} px target`);
      }
      const cover = !sheetOpen && onScreen(box) && coveredBy(el);
      if (cover) problems.push(`${name(el)} is covered by ${name(cover)}`);
    }
    const lap = controls[0]?.getBoundingClientRect();
    if (lap && lap.height < 0.35 * vh) {
      problems.push(`the primary button is only ${Math.round(lap.height)} px tall of ${vh}`);
    }
  }
  return problems;
})
