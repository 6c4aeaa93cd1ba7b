// DOM helpers: find by id, build, fill, show a screen, and tell the runner.

import { formatMile } from "./format.js";

export const $ = (id) => document.getElementById(id);
export const current = () => document.body.dataset.screen;
export const buzz = (pattern) => navigator.vibrate?.(pattern);

export function show(name) {
  for (const screen of document.querySelectorAll(".screen")) {
    screen.hidden = screen.id !== `screen-${name}`;
  }
  document.body.dataset.screen = name;
  $("sync-bar").hidden = !["runs", "done", "signin"].includes(name);
  scrollTo(0, 0);
}

// el("li", { className, dataset, onclick }, "text", child, ...)
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  const { dataset, ...rest } = props;
  Object.assign(node, rest);
  Object.assign(node.dataset, dataset || {});
  node.append(...children);
  return node;
}

// Sets an element's text and, when hide is given, whether it is hidden.
export function put(id, text, hide) {
  const node = $(id);
  node.textContent = text;
  if (hide !== undefined) node.hidden = hide;
}

// The mile's number, on the one element that shows it now (data-testid "mile-number").
export function showMile(id, number) {
  for (const node of document.querySelectorAll('[data-testid="mile-number"]')) delete node.dataset.testid;
  put(id, formatMile(number));
  $(id).dataset.testid = "mile-number";
}

// As an <img>, an SVG can never run script; a data URL shows offline too.
export const svgUrl = (svg) => `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;

let noticeTimer = null;

export function notice(message, kind = "info", ms = 2500) {
  const box = $("notice");
  box.textContent = message;
  box.className = `notice notice-${kind}`;
  box.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (box.hidden = true), ms);
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
