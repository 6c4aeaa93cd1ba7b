// Small DOM helpers for the app: screens, notices, formatting, phone feedback, downloads.

export function $(id) {
  return document.getElementById(id);
}

export function show(name) {
  for (const screen of document.querySelectorAll(".screen")) {
    screen.hidden = screen.id !== `screen-${name}`;
  }
  document.body.dataset.screen = name;
  $("sync-bar").hidden = !["runs", "done", "signin"].includes(name);
  scrollTo(0, 0);
}

export function current() {
  return document.body.dataset.screen;
}

// Builds an element: el("li", {className: "x", dataset: {id}, onclick}, "text", child...)
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  const { dataset, ...rest } = props;
  Object.assign(node, rest);
  Object.assign(node.dataset, dataset || {});
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

// Sets an element's text and, when hide is given, whether it is hidden.
export function put(id, text, hide) {
  const node = $(id);
  node.textContent = text;
  if (hide !== undefined) node.hidden = hide;
}

let noticeTimer = null;
export function notice(message, kind = "info", ms = 2500) {
  const box = $("notice");
  box.textContent = message;
  box.className = `notice notice-${kind}`;
  box.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (box.hidden = true), ms);
}

export function formatDay(isoDate) {
  const options = { dateStyle: "long", timeZone: "UTC" }; // a date, not a moment: no shift
  return new Date(`${isoDate}T12:00:00Z`).toLocaleDateString(undefined, options);
}

export function formatWhen(iso) {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
}

export function buzz(pattern) {
  if (navigator.vibrate) navigator.vibrate(pattern);
}

export function say(words) {
  if (!("speechSynthesis" in window)) return;
  speechSynthesis.cancel(); // the newest lap matters, not a queue of old ones
  speechSynthesis.speak(new SpeechSynthesisUtterance(words));
}

export function downloadJson(filename, data) {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
