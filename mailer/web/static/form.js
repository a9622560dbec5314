/* The embedded sign-up form (`newsletter form`): fetch a proof-of-work challenge from the
   newsletter server, find the number whose SHA-256 matches (ALTCHA scheme), then send the form.
   No cookies, no third party; the form is a plain HTML form otherwise. */
(function () {
  "use strict";

  // SHA-256 (FIPS 180-4) of a short ASCII string, as hex: synchronous, so the search below
  // runs at a few hundred thousand hashes a second instead of waiting on crypto.subtle each time.
  var K = [];
  (function () {
    var n = 2, found = 0;
    while (found < 64) {
      var prime = true;
      for (var d = 2; d * d <= n; d++) if (n % d === 0) { prime = false; break; }
      if (prime) { K[found++] = (Math.pow(n, 1 / 3) % 1) * 4294967296 | 0; }
      n++;
    }
  })();
  var H0 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
  var W = new Int32Array(64);

  function sha256hex(text) {
    var length = text.length, blocks = ((length + 8) >> 6) + 1, words = new Int32Array(blocks * 16);
    for (var i = 0; i < length; i++) words[i >> 2] |= (text.charCodeAt(i) & 0xff) << (24 - (i % 4) * 8);
    words[length >> 2] |= 0x80 << (24 - (length % 4) * 8);
    words[blocks * 16 - 1] = length * 8;
    var h = H0.slice();
    for (var b = 0; b < blocks * 16; b += 16) {
      for (var t = 0; t < 64; t++) {
        if (t < 16) { W[t] = words[b + t]; continue; }
        var x = W[t - 15], y = W[t - 2];
        var s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
        var s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
        W[t] = (W[t - 16] + s0 + W[t - 7] + s1) | 0;
      }
      var a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
      for (t = 0; t < 64; t++) {
        var S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        var t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K[t] + W[t]) | 0;
        var S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        var t2 = (S0 + ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
        hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = bb; bb = a; a = (t1 + t2) | 0;
      }
      h[0] = (h[0] + a) | 0; h[1] = (h[1] + bb) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
      h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + hh) | 0;
    }
    var out = "";
    for (i = 0; i < 8; i++) out += ("00000000" + (h[i] >>> 0).toString(16)).slice(-8);
    return out;
  }

  async function solve(challenge) {
    for (var n = 0; n <= challenge.maxnumber; n++) {
      if (sha256hex(challenge.salt + n) === challenge.challenge) return n;
      if (n % 20000 === 19999) await new Promise(function (go) { setTimeout(go, 0); });
    }
    return null;
  }

  async function prove(form) {
    var answer = await fetch(form.dataset.challenge, { method: "GET", mode: "cors", credentials: "omit" });
    if (!answer.ok) throw new Error("challenge " + answer.status);
    var challenge = await answer.json();
    var number = await solve(challenge);
    if (number === null) throw new Error("no solution");
    return btoa(JSON.stringify({
      algorithm: challenge.algorithm, challenge: challenge.challenge, number: number,
      salt: challenge.salt, signature: challenge.signature
    }));
  }

  function attach(form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.proven === "1") return;
      event.preventDefault();
      var status = form.querySelector(".nl-status"), button = form.querySelector("button");
      if (status) status.textContent = form.dataset.working || "";
      if (button) button.disabled = true;
      prove(form).then(function (solution) {
        form.elements.altcha.value = solution;
        form.elements.page.value = window.location.href.split("#")[0];
        form.dataset.proven = "1";
        HTMLFormElement.prototype.submit.call(form);
      }).catch(function () {
        if (status) status.textContent = form.dataset.failed || "";
        if (button) button.disabled = false;
      });
    });
  }

  var forms = document.querySelectorAll("form.nl-form[data-challenge]");
  for (var i = 0; i < forms.length; i++) attach(forms[i]);
})();
