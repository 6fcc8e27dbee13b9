// attnviz video page: the video with its heatmap (a canvas layer), boxes, importance curve,
// segments and top-5 classes. Plain JavaScript, no library, no network. The data layout is
// documented in attnviz/render/page.py.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("attnviz-data").textContent);
  var root = document.getElementById("viewer");
  var V = D.video;
  var times = D.times;
  var T = times.length;

  function el(tag, attrs, parent, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  function decode(b64) {
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  var lut = decode(D.colormap); // [256, 3] RGB

  // ---------------------------------------------------------------- the player
  // A <video> when a browser-playable copy exists, else a clock with the same interface.
  function Clock(duration) {
    this.duration = duration;
    this.currentTime = 0;
    this.paused = true;
    this.ended = false;
  }
  Clock.prototype.play = function () {
    var self = this;
    if (!self.paused) return Promise.resolve();
    if (self.currentTime >= self.duration) self.currentTime = 0;
    self.paused = false;
    var last = performance.now();
    function tick(now) {
      if (self.paused) return;
      self.currentTime = Math.min(self.duration, self.currentTime + (now - last) / 1000);
      last = now;
      if (self.currentTime >= self.duration) {
        self.paused = true;
        return;
      }
      requestAnimationFrame(tick);
    }
    requestAnimationFrame(tick);
    return Promise.resolve();
  };
  Clock.prototype.pause = function () {
    this.paused = true;
  };

  // Display size: the frame scaled to fit 560 x 400.
  var scale = Math.min(560 / V.width, 400 / V.height);
  var W = Math.max(1, Math.round(V.width * scale));
  var H = Math.max(1, Math.round(V.height * scale));

  var layout = el("div", { class: "layout" }, root);
  var left = el("div", { class: "left" }, layout);
  var side = el("aside", { class: "side" }, layout);
  var stage = el("div", { class: "stage", style: "width:" + W + "px;height:" + H + "px" }, left);
  var player;
  if (V.src) {
    player = el("video", {
      id: "video",
      src: V.src,
      width: W,
      height: H,
      preload: "auto",
      playsinline: "",
    }, stage);
    player.muted = true;
  } else {
    el("div", { class: "blank" }, stage, "no browser-playable video: heatmap only");
    player = new Clock(V.duration);
  }
  var overlay = el("canvas", { id: "overlay", width: W, height: H }, stage);
  var octx = overlay.getContext("2d");

  var controls = el("div", { class: "controls" }, left);
  var playBtn = el("button", { id: "play", type: "button", title: "space" }, controls, "Play");
  var prevBtn = el("button", { id: "prev", type: "button", title: "left arrow" }, controls, "\u25C0");
  var nextBtn = el("button", { id: "next", type: "button", title: "right arrow" }, controls, "\u25B6");
  var heatLabel = el("label", {}, controls);
  var heatBox = el("input", { id: "heatmap", type: "checkbox" }, heatLabel);
  heatBox.checked = true;
  heatLabel.appendChild(document.createTextNode(" heatmap"));
  var opLabel = el("label", {}, controls, "opacity ");
  var opacity = el("input", { id: "opacity", type: "range", min: "0", max: "100", value: "50" }, opLabel);
  var methLabel = el("label", {}, controls, "method ");
  var methodSel = el("select", { id: "method", title: "m" }, methLabel);
  D.methods.forEach(function (m, i) {
    el("option", { value: String(i) }, methodSel, m.name);
  });
  if (D.methods.length < 2) methLabel.style.display = "none";
  var clock = el("div", { id: "clock", class: "clock" }, left);

  var CW = Math.max(W, 640);
  var CH = 130;
  var curve = el("canvas", { id: "curve", width: CW, height: CH, title: "click to seek" }, left);
  var cctx = curve.getContext("2d");
  var legend = el("div", { class: "legend" }, left);
  legend.innerHTML =
    "<span class='sw pred'></span> predicted box / segment " +
    "<span class='sw gt'></span> ground truth " +
    "<span class='sw line'></span> importance (normalised) " +
    "<span class='sw thr'></span> threshold" +
    "<br>keys: space play / pause, \u2190 \u2192 one sampled frame, m next method; " +
    "click the curve to seek";

  var topBox = el("div", { class: "top5" }, side);
  var segBox = el("div", { class: "segs" }, side);

  // ---------------------------------------------------------------- state
  var state = { method: 0, heat: true, opacity: 0.5, drawn: null };
  var heatCanvas = document.createElement("canvas");
  var maps = {}; // method index -> Uint8Array[T * h * w] (decoded on first use)
  var boxesAt = {}; // method index -> {t: [box, ...]}
  var gtAt = {};
  D.gt_boxes.forEach(function (b) {
    (gtAt[b[0]] = gtAt[b[0]] || []).push(b);
  });

  function methodMaps(i) {
    if (!maps[i]) maps[i] = decode(D.methods[i].maps);
    return maps[i];
  }
  function methodBoxes(i) {
    if (!boxesAt[i]) {
      var at = {};
      D.methods[i].boxes.forEach(function (b) {
        (at[b[0]] = at[b[0]] || []).push(b);
      });
      boxesAt[i] = at;
    }
    return boxesAt[i];
  }

  // The sampled frame shown at time s: the last one at or before s.
  function indexAt(s) {
    var lo = 0, hi = T - 1;
    if (T === 0 || s < times[0]) return 0;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (times[mid] <= s + 1e-6) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
  var half = V.fps > 0 ? 0.5 / V.fps : 0.001;
  function duration() {
    var d = player.duration;
    return isFinite(d) && d > 0 ? d : V.duration;
  }
  function seek(s) {
    player.currentTime = Math.max(0, Math.min(duration(), s));
  }
  function step(k) {
    player.pause();
    var i = Math.max(0, Math.min(T - 1, indexAt(player.currentTime) + k));
    seek(times[i] + half);
  }
  function togglePlay() {
    if (player.paused) {
      if (player.ended || player.currentTime >= duration() - 1e-3) seek(0);
      var p = player.play();
      if (p && p.catch) p.catch(function () {});
    } else player.pause();
  }
  function setMethod(i) {
    state.method = ((i % D.methods.length) + D.methods.length) % D.methods.length;
    methodSel.value = String(state.method);
    renderSide();
    renderCurveBase();
  }

  // ---------------------------------------------------------------- drawing
  function drawHeat(t) {
    var m = D.methods[state.method];
    var gh = m.grid[0], gw = m.grid[1];
    if (heatCanvas.width !== gw || heatCanvas.height !== gh) {
      heatCanvas.width = gw;
      heatCanvas.height = gh;
    }
    var hctx = heatCanvas.getContext("2d");
    var img = hctx.createImageData(gw, gh);
    var q = methodMaps(state.method);
    var off = t * gh * gw;
    for (var c = 0; c < gh * gw; c++) {
      var v = q[off + c];
      img.data[4 * c] = lut[3 * v];
      img.data[4 * c + 1] = lut[3 * v + 1];
      img.data[4 * c + 2] = lut[3 * v + 2];
      img.data[4 * c + 3] = 255;
    }
    hctx.putImageData(img, 0, 0);
    octx.save();
    octx.globalAlpha = state.opacity;
    octx.imageSmoothingEnabled = true;
    octx.imageSmoothingQuality = "high";
    octx.drawImage(heatCanvas, 0, 0, gw, gh, 0, 0, W, H);
    octx.restore();
  }

  function drawBox(b, color, text) {
    var sx = W / V.width, sy = H / V.height;
    var x = b[1] * sx, y = b[2] * sy, w = (b[3] - b[1]) * sx, h = (b[4] - b[2]) * sy;
    octx.lineWidth = 2;
    octx.strokeStyle = color;
    octx.strokeRect(x, y, w, h);
    if (text) {
      octx.font = "12px sans-serif";
      var tw = octx.measureText(text).width + 6;
      octx.fillStyle = color;
      octx.fillRect(x, Math.max(0, y - 16), tw, 16);
      octx.fillStyle = "#fff";
      octx.fillText(text, x + 3, Math.max(12, y - 4));
    }
  }

  function drawOverlay(t) {
    octx.clearRect(0, 0, W, H);
    if (T === 0) return;
    if (state.heat) drawHeat(t);
    (gtAt[t] || []).forEach(function (b) {
      drawBox(b, "#1f4fff", V.label || "ground truth");
    });
    (methodBoxes(state.method)[t] || []).forEach(function (b) {
      drawBox(b, "#e8201c", b[5] + " " + b[6].toFixed(2));
    });
  }

  var PAD_L = 34, PAD_R = 10, PAD_T = 8, PAD_B = 22;
  var curveBase = document.createElement("canvas");
  function xOf(s) {
    return PAD_L + (s / Math.max(duration(), 1e-9)) * (CW - PAD_L - PAD_R);
  }
  function yOf(v) {
    return PAD_T + (1 - v) * (CH - PAD_T - PAD_B);
  }
  function renderCurveBase() {
    curveBase.width = CW;
    curveBase.height = CH;
    var c = curveBase.getContext("2d");
    var m = D.methods[state.method];
    c.fillStyle = "#fff";
    c.fillRect(0, 0, CW, CH);
    var y0 = yOf(1), y1 = yOf(0);
    D.gt_segments.forEach(function (s) {
      c.fillStyle = "rgba(31, 79, 255, 0.16)";
      c.fillRect(xOf(s[0]), y0, Math.max(1, xOf(s[1]) - xOf(s[0])), y1 - y0);
      c.fillStyle = "#1f4fff";
      c.fillRect(xOf(s[0]), y1 + 2, Math.max(1, xOf(s[1]) - xOf(s[0])), 4);
    });
    m.segments.forEach(function (s) {
      c.fillStyle = "rgba(232, 32, 28, 0.16)";
      c.fillRect(xOf(s[0]), y0, Math.max(1, xOf(s[1]) - xOf(s[0])), y1 - y0);
      c.fillStyle = "#e8201c";
      c.fillRect(xOf(s[0]), y1 + 7, Math.max(1, xOf(s[1]) - xOf(s[0])), 4);
    });
    c.strokeStyle = "#999";
    c.lineWidth = 1;
    c.strokeRect(PAD_L, y0, CW - PAD_L - PAD_R, y1 - y0);
    c.setLineDash([4, 3]);
    c.beginPath();
    c.moveTo(PAD_L, yOf(m.threshold));
    c.lineTo(CW - PAD_R, yOf(m.threshold));
    c.stroke();
    c.setLineDash([]);
    c.strokeStyle = "#222";
    c.lineWidth = 1.5;
    c.beginPath();
    for (var i = 0; i < T; i++) {
      var x = xOf(times[i]), y = yOf(m.importance[i]);
      if (i === 0) c.moveTo(x, y);
      else c.lineTo(x, y);
    }
    c.stroke();
    c.fillStyle = "#444";
    c.font = "11px sans-serif";
    c.fillText("1", 4, y0 + 9);
    c.fillText("0", 4, y1);
    c.fillText("0 s", PAD_L, CH - 4);
    var end = duration().toFixed(1) + " s";
    c.fillText(end, CW - PAD_R - c.measureText(end).width, CH - 4);
    state.drawn = null;
  }

  function drawCurve(s) {
    cctx.drawImage(curveBase, 0, 0);
    var x = xOf(s);
    cctx.strokeStyle = "#e8201c";
    cctx.lineWidth = 2;
    cctx.beginPath();
    cctx.moveTo(x, PAD_T - 4);
    cctx.lineTo(x, CH - PAD_B + 12);
    cctx.stroke();
  }

  function renderSide() {
    var m = D.methods[state.method];
    topBox.innerHTML = "";
    el("h2", {}, topBox, "top-5 classes" + (D.methods.length > 1 ? " (" + m.name + ")" : ""));
    if (V.label) el("p", { class: "gt" }, topBox, "ground truth: " + V.label);
    var tab = el("table", { id: "top5" }, topBox);
    m.top5.forEach(function (r) {
      var tr = el("tr", r[0] === V.label ? { class: "hit" } : {}, tab);
      el("td", {}, tr, r[0]);
      var td = el("td", { class: "num" }, tr, r[1].toFixed(3));
      var bar = el("span", { class: "bar" }, td);
      bar.style.width = Math.round(60 * r[1]) + "px";
    });
    segBox.innerHTML = "";
    el("h2", {}, segBox, "segments");
    var list = el("ul", {}, segBox);
    function item(cls, s, text) {
      var li = el("li", { class: cls, title: "click to seek" }, list,
        s[0].toFixed(2) + "\u2013" + s[1].toFixed(2) + " s " + text);
      li.addEventListener("click", function () { seek(s[0] + half); });
    }
    m.segments.forEach(function (s) { item("pred", s, s[2] + " (" + s[3].toFixed(2) + ")"); });
    D.gt_segments.forEach(function (s) { item("gt", s, "ground truth"); });
    if (!m.segments.length && !D.gt_segments.length) el("li", {}, list, "none");
  }

  function frame() {
    var s = player.currentTime;
    var t = indexAt(s);
    var key = [s, t, state.method, state.heat, state.opacity, player.paused].join("|");
    if (key !== state.drawn) {
      state.drawn = key;
      drawOverlay(t);
      drawCurve(s);
      playBtn.textContent = player.paused ? "Play" : "Pause";
      clock.textContent =
        s.toFixed(2) + " s \u00b7 sampled frame " + (t + 1) + " / " + T +
        (T ? " (source frame " + D.frames[t] + ")" : "");
    }
    requestAnimationFrame(frame);
  }

  // ---------------------------------------------------------------- events
  playBtn.addEventListener("click", togglePlay);
  prevBtn.addEventListener("click", function () { step(-1); });
  nextBtn.addEventListener("click", function () { step(1); });
  heatBox.addEventListener("change", function () { state.heat = heatBox.checked; });
  opacity.addEventListener("input", function () { state.opacity = opacity.value / 100; });
  methodSel.addEventListener("change", function () { setMethod(Number(methodSel.value)); });
  curve.addEventListener("click", function (e) {
    var r = curve.getBoundingClientRect();
    var x = (e.clientX - r.left) * (CW / r.width);
    seek(((x - PAD_L) / (CW - PAD_L - PAD_R)) * duration());
  });
  overlay.addEventListener("click", togglePlay);
  if (V.src) player.addEventListener("loadedmetadata", renderCurveBase);
  document.addEventListener("keydown", function (e) {
    var tg = e.target;
    if (tg && tg.tagName === "INPUT" && tg.type === "text") return;
    var k = e.key;
    if (k !== " " && k !== "ArrowLeft" && k !== "ArrowRight" && k !== "m" && k !== "M") return;
    e.preventDefault();
    if (tg && tg.blur && tg !== document.body) tg.blur(); // no double action from a focused control
    if (k === " ") togglePlay();
    else if (k === "ArrowLeft") step(-1);
    else if (k === "ArrowRight") step(1);
    else setMethod(state.method + 1);
  });

  window.attnviz = {
    player: player,
    index: function () { return indexAt(player.currentTime); },
    method: function () { return D.methods[state.method].name; },
    setMethod: setMethod,
    seek: seek,
    data: D,
    size: [W, H],
  };
  renderSide();
  renderCurveBase();
  requestAnimationFrame(frame);
})();
