// SEJAGAD SEHAT's service worker (served by sejagad.pwa.service_worker; the version is the hash of the files below).
// It keeps the app shell and the birth form page so a midwife can open the form with no signal. It answers
// for nothing else: other pages and every API answer go to the network and are never stored on the phone.
"use strict";
const CONFIG = {{ config|safe }};
const SHELL_CACHE = "sejagad-shell-" + CONFIG.version;
const PAGE_CACHE = "sejagad-page-" + CONFIG.version;
const NETWORK_WAIT_MS = 6000;  // on a weak signal, the kept form rather than a blank screen

function formRequest() {
  return new Request(CONFIG.form, { credentials: "same-origin", redirect: "manual" });
}

// Only a real form page is kept: a redirect (to the login page) or an error is not.
async function keepForm(response) {
  if (response && response.ok && response.type === "basic" && !response.redirected) {
    const cache = await caches.open(PAGE_CACHE);
    await cache.put(CONFIG.form, response.clone());
  }
  return response;
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    await cache.addAll(CONFIG.shell);
    // The form too, if the phone is signed in now (it is, when the worker is installed from the form).
    try { await keepForm(await fetch(formRequest())); } catch (e) { /* kept on the next visit */ }
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith("sejagad-") && n !== SHELL_CACHE && n !== PAGE_CACHE)
      .map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

async function networkFirstForm(request) {
  const cache = await caches.open(PAGE_CACHE);
  const network = fetch(request).then(keepForm);
  const timeout = new Promise((resolve) => setTimeout(resolve, NETWORK_WAIT_MS, null));
  try {
    const first = await Promise.race([network, timeout]);
    if (first) return first;
    const kept = await cache.match(CONFIG.form);
    return kept || network;
  } catch (e) {
    const kept = await cache.match(CONFIG.form);
    if (kept) return kept;
    throw e;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === CONFIG.form) {
    event.respondWith(networkFirstForm(request));
  } else if (CONFIG.shell.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname, { cacheName: SHELL_CACHE }).then((hit) => hit || fetch(request)));
  }
});

// The page asks for the form to be kept right after registering (the first visit is not yet controlled).
self.addEventListener("message", (event) => {
  if (event.data === "keep-form") event.waitUntil(fetch(formRequest()).then(keepForm).catch(() => null));
});
