// Batch printing on /admin/shipments: post the selection, show the server's page count as
// it draws each label, then offer the finished PDF. Without this module the same form
// posts normally and the PDF simply arrives when it is ready.

const form = document.querySelector("[data-batch-print]");
if (form) setUp(form);

function setUp(printForm) {
  const tools = printForm.querySelector("[data-select-tools]");
  if (tools) {
    tools.hidden = false;
    tools.addEventListener("click", (event) => selectRows(printForm, event));
  }
  printForm.addEventListener("submit", (event) => {
    event.preventDefault();
    printBatch(printForm);
  });
}

function selectRows(printForm, event) {
  const button = event.target.closest("[data-select]");
  if (!button) return;
  const checked = button.dataset.select === "all";
  printForm.querySelectorAll('input[name="ids"]').forEach((box) => {
    box.checked = checked;
  });
}

async function printBatch(printForm) {
  const panel = printForm.querySelector("[data-progress]");
  const bar = panel.querySelector("progress");
  const text = panel.querySelector("[data-progress-text]");
  const link = panel.querySelector("[data-progress-link]");
  const submit = printForm.querySelector('[type="submit"]');
  const picked = printForm.querySelectorAll('input[name="ids"]:checked').length;
  panel.hidden = false;
  link.hidden = true;
  if (picked === 0) {
    bar.value = 0;
    text.textContent = "Select at least one shipment first.";
    return;
  }
  submit.disabled = true;
  bar.max = picked;
  bar.value = 0;
  text.textContent = `Preparing ${picked} ${picked === 1 ? "page" : "pages"}…`;
  try {
    const finished = await streamProgress(printForm, (event) => {
      bar.max = event.total;
      bar.value = event.done;
      text.textContent = `Drawn ${event.done} of ${event.total}`;
    });
    if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
    const blob = new Blob([fromBase64(finished.pdf)], { type: "application/pdf" });
    link.href = URL.createObjectURL(blob);
    link.download = finished.filename;
    link.hidden = false;
    showStatuses(printForm, finished.statuses || {});
    text.textContent = madeText(finished.made);
    link.focus();
  } catch (error) {
    text.textContent = error.message;
  } finally {
    submit.disabled = false;
  }
}

// "Made 3 labels on 2 letter sheets (a 2-page PDF)." from the server's own counts.
export function madeText(made) {
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  const items = made.format === "card"
    ? plural(made.items, "keepsake card", "keepsake cards")
    : plural(made.items, "label", "labels");
  const sheet = made.format === "letter" ? ["letter sheet", "letter sheets"]
    : made.format === "card" ? ["card sheet", "card sheets"] : ["4×6 label", "4×6 labels"];
  const sheets = made.format === "label" ? "" : ` on ${plural(made.pages, ...sheet)}`;
  return `Made ${items}${sheets} (a ${made.pages}-page PDF). The list shows the new statuses.`;
}

function showStatuses(printForm, statuses) {
  const list = printForm.closest("main") || document;
  for (const [id, { status, label }] of Object.entries(statuses)) {
    const row = list.querySelector(`[data-shipment-id="${CSS.escape(id)}"]`);
    const badge = row?.querySelector("[data-status-badge]");
    if (!badge) continue;
    badge.textContent = label;
    badge.className = `badge ship-${status}`;
  }
}

async function streamProgress(printForm, onProgress) {
  const response = await fetch(printForm.action, {
    method: "POST",
    body: new FormData(printForm),
    headers: { Accept: "application/x-ndjson" },
    credentials: "same-origin",
  });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new Error(body?.error?.message || `Printing failed (${response.status}). Try again.`);
  }
  let finished = null;
  for await (const line of lines(response.body)) {
    const event = JSON.parse(line);
    onProgress(event);
    if (event.pdf) finished = event;
  }
  if (!finished) throw new Error("The PDF did not arrive. Try again.");
  return finished;
}

async function* lines(stream) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end = buffer.indexOf("\n");
    while (end >= 0) {
      const line = buffer.slice(0, end).trim();
      buffer = buffer.slice(end + 1);
      if (line) yield line;
      end = buffer.indexOf("\n");
    }
  }
  if (buffer.trim()) yield buffer.trim();
}

function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
