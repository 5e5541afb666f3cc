// The AXIS viewer: job list (#/) and shot view (#/job/ID, optional ?frame=N in the hash).
// Frames are fetched on demand (the shown one, its onion-skin neighbours and a few ahead while
// playing) and kept in a bounded cache; the shot is never fetched whole.
// window.axisViewer.state is a read-only snapshot for tests and debugging.
import { ApiError, apiKey, jobPath, request, setApiKey } from "./api.js";
import { chainThrough, drawPrimitives, drawStroke, hitStroke, strokeColour } from "./draw.js";

const $ = (id) => document.getElementById(id);
const app = $("app");
const CACHE_LIMIT = 300; // frames kept in memory (a 1080p frame's JSON is ~100 kB)
const AHEAD = 6; // frames prefetched ahead of the play head

const S = {
  view: "", info: {}, jobId: null, manifest: null, frames: [], pos: 0, playing: false,
  speed: 1, mode: "strokes", colourBy: "stroke_id", onion: 0, selected: null, edit: false,
  drawing: null, drag: null, cache: new Map(), sourceReady: false, metrics: null,
  firstFrameMs: null, drawn: null, highlighted: [], undo: new Map(), redo: new Map(),
  frameError: null, lastMessage: "", renderEtag: null, shown: 0,
};

window.axisViewer = Object.freeze({
  get state() {
    const frame = S.frames[S.pos];
    return Object.freeze({
      view: S.view, jobId: S.jobId, pos: S.pos, frame: frame ? frame.index : null,
      frameCount: S.frames.length, playing: S.playing, speed: S.speed, mode: S.mode,
      colourBy: S.colourBy, onion: S.onion, selected: S.selected, edit: S.edit,
      drawnFrame: S.drawn, highlighted: [...S.highlighted], firstFrameMs: S.firstFrameMs,
      revision: S.cache.get(frame?.index)?.revision ?? null,
      etag: S.cache.get(frame?.index)?.etag ?? null, frameError: S.frameError,
      message: S.lastMessage, error: $("error").hidden ? null : $("error").textContent,
      renderEtag: S.renderEtag, sourceReady: S.sourceReady, framesShown: S.shown,
      videoTime: $("video").currentTime, videoHidden: $("video").hidden,
      linemapHidden: $("linemap").hidden, linemapWidth: $("linemap").naturalWidth,
    });
  },
  // Where a frame point (px) lies on the page, so a test can click or drag it.
  pagePoint(x, y) {
    const r = $("canvas").getBoundingClientRect();
    const c = $("canvas");
    return { x: r.left + (x * r.width) / c.width, y: r.top + (y * r.height) / c.height };
  },
  frameData(index) {
    const entry = S.cache.get(index);
    return entry && entry.data ? JSON.parse(JSON.stringify(entry.data)) : null;
  },
});

// ---- messages and states -------------------------------------------------------------------

function setState(state) {
  app.dataset.state = state;
}

function showError(text) {
  $("error").textContent = text;
  $("error").hidden = !text;
}

function say(text) {
  S.lastMessage = text;
  $("message").textContent = text;
  $("message").hidden = !text;
}

function show(section) {
  for (const id of ["jobs", "shot", "loading", "key-form"]) $(id).hidden = id !== section;
}

// A failed request as one sentence for the page; 401/403 open the API-key form.
function explain(err, what) {
  if (err instanceof ApiError) {
    if (err.status === 401 || err.status === 403) {
      askKey(err.status === 401 ? "This server needs an API key." : "The API key was refused.");
      return null;
    }
    return `${what}: ${err.message} (${err.code})`;
  }
  return `${what}: ${err}`;
}

function fail(err, what) {
  const text = explain(err, what);
  if (text === null) return;
  showError(text);
  setState("error");
}

function askKey(reason) {
  setApiKey(null);
  $("key-reason").textContent = reason;
  show("key-form");
  setState("needs-key");
  $("key-input").focus();
}

$("key-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  setApiKey($("key-input").value.trim());
  $("key-input").value = "";
  route();
});

// ---- routing -------------------------------------------------------------------------------

function parseHash() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, query] = hash.split("?");
  const params = new URLSearchParams(query || "");
  const m = path.match(/^\/job\/(.+)$/);
  return m ? { view: "shot", jobId: decodeURIComponent(m[1]), params } : { view: "jobs", params };
}

let routeToken = 0;

async function route() {
  const token = ++routeToken;
  setState("loading");
  stopPlaying();
  showError("");
  say("");
  const where = parseHash();
  S.view = where.view;
  app.dataset.view = where.view;
  try {
    if (!S.info.server) S.info = (await request("/viewer/info.json")).data;
    $("server").textContent = S.info.server === "local" ? "local folder (read-only)" : "service";
    if (where.view === "jobs") await showJobs(token);
    else await openShot(where.jobId, Number(where.params.get("frame") || 0), token);
  } catch (err) {
    if (token === routeToken) fail(err, where.view === "jobs" ? "Cannot list jobs" : "Cannot open the job");
  }
}

window.addEventListener("hashchange", () => {
  const where = parseHash();
  if (where.view === "shot" && where.jobId === S.jobId && S.manifest) return; // frame param only
  route();
});

// ---- job list ------------------------------------------------------------------------------

async function showJobs(token) {
  setState("loading");
  $("title").textContent = "";
  const { data } = await request("/jobs");
  if (token !== routeToken) return;
  const rows = $("job-rows");
  rows.replaceChildren();
  for (const job of data) {
    const tr = document.createElement("tr");
    tr.dataset.job = job.job_id;
    const link = document.createElement("a");
    link.href = `#/job/${encodeURIComponent(job.job_id)}`;
    link.textContent = job.job_id;
    const cells = [link, job.status, null, job.created_at.replace("T", " ").slice(0, 19)];
    cells.forEach((c, i) => {
      const td = document.createElement("td");
      if (i === 2) {
        const bar = document.createElement("progress");
        bar.max = 1;
        bar.value = job.progress.fraction ?? (job.status === "completed" ? 1 : 0);
        td.append(bar);
      } else td.append(c);
      tr.append(td);
    });
    rows.append(tr);
  }
  $("no-jobs").hidden = data.length > 0;
  show("jobs");
  setState("ready");
}

// ---- opening a shot ------------------------------------------------------------------------

async function openShot(jobId, startFrame, token) {
  setState("loading");
  show("loading");
  $("loading-text").textContent = `Loading job ${jobId}…`;
  $("progress").removeAttribute("value");
  $("title").textContent = jobId;
  Object.assign(S, {
    jobId, manifest: null, frames: [], cache: new Map(), selected: null, metrics: null,
    sourceReady: false, drawn: null, highlighted: [], undo: new Map(), redo: new Map(),
    frameError: null, firstFrameMs: null, renderEtag: null, stripBase: null, lastPos: null,
  });
  const t0 = performance.now();
  // A job still running: a progress bar, polled until it ends.
  for (;;) {
    let job;
    try {
      job = (await request(jobPath(jobId))).data;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        showError(`Job "${jobId}" not found.`);
        setState("error");
        show(null);
        return;
      }
      throw err;
    }
    if (token !== routeToken) return;
    if (job.status === "failed") {
      const e = job.error || {};
      showError(`Job "${jobId}" failed: ${e.message || "no message"} (${e.code || "unknown"}).`);
      setState("error");
      show(null);
      return;
    }
    if (job.status === "completed") break;
    setState("running");
    const p = job.progress;
    $("loading-text").textContent = `Job ${jobId} is ${job.status}: ${p.frames_done}` +
      (p.frames_total ? ` of ${p.frames_total}` : "") + " frames traced.";
    if (p.fraction !== null) $("progress").value = p.fraction;
    await new Promise((r) => setTimeout(r, 1000));
    if (token !== routeToken) return;
  }
  const manifest = (await request(`${jobPath(jobId)}/lines.json`)).data;
  if (token !== routeToken) return;
  S.manifest = manifest;
  S.frames = manifest.frames;
  if (!S.frames.length) throw new ApiError(500, "no_frames", "lines.json lists no frames");
  const { width, height } = manifest.frame_size;
  $("canvas").width = width;
  $("canvas").height = height;
  $("stage").style.setProperty("--aspect", String(width / height));
  $("scrub").max = String(S.frames.length - 1);
  S.tracks = new Map((manifest.tracks || []).map((t) => [t.stroke_id, t]));
  S.pos = Math.max(0, Math.min(S.frames.length - 1, indexToPos(startFrame)));
  S.mode = "strokes";
  $("mode").value = "strokes";
  show("shot");
  $("edit-toggle").disabled = !S.info.editable;
  await showFrame(S.pos);
  if (token !== routeToken) return;
  // from navigation when the page opened on this shot (what a person waits), else from the
  // click that opened it
  S.firstFrameMs = routeToken === 1 ? performance.now() : performance.now() - t0;
  setState("ready");
  // Then, not holding up the first frame: the metrics strip and the source video.
  loadMetrics(token);
  loadSource(token);
}

function indexToPos(index) {
  if (S.frames[index] && S.frames[index].index === index) return index;
  const i = S.frames.findIndex((f) => f.index === index);
  return i < 0 ? 0 : i;
}

async function loadSource(token) {
  const video = $("video");
  try {
    const { data } = await request(`${jobPath(S.jobId)}/source`, { as: "blob" });
    if (token !== routeToken) return;
    video.src = URL.createObjectURL(data);
    await new Promise((resolve, reject) => {
      video.onloadeddata = resolve;
      video.onerror = () => reject(new Error("the browser cannot decode the source video"));
    });
    if (token !== routeToken) return;
    S.sourceReady = true;
    if ($("mode").dataset.touched !== "1") setMode("video");
  } catch (err) {
    $("mode").querySelector('option[value="video"]').disabled = true;
    const text = err instanceof ApiError ? err.message : String(err.message || err);
    say(`No source video to draw over: ${text}. Showing the strokes alone.`);
  }
}

// ---- frames --------------------------------------------------------------------------------

function frameEntry(pos) {
  const meta = S.frames[pos];
  if (!meta) return null;
  let entry = S.cache.get(meta.index);
  if (!entry) {
    entry = { data: null, etag: null, revision: 0, error: null, promise: null };
    entry.promise = request(`${jobPath(S.jobId)}/frames/${meta.index}.json`).then(
      ({ data, etag }) => {
        entry.data = data;
        setEtag(entry, etag);
      },
      (err) => {
        entry.error = err;
      },
    );
    S.cache.set(meta.index, entry);
    if (S.cache.size > CACHE_LIMIT) {
      for (const key of S.cache.keys()) {
        if (S.cache.size <= CACHE_LIMIT) break;
        if (Math.abs(indexToPos(key) - S.pos) > 20) S.cache.delete(key);
      }
    }
  }
  return entry;
}

function setEtag(entry, etag) {
  entry.etag = etag;
  const m = etag && etag.match(/r(\d+)/);
  entry.revision = m ? Number(m[1]) : 0;
}

let showToken = 0;

async function showFrame(pos) {
  const token = ++showToken;
  S.pos = pos;
  const meta = S.frames[pos];
  $("scrub").value = String(pos);
  $("frame-label").textContent = `frame ${meta.index} (${pos + 1}/${S.frames.length}) t=${meta.time.toFixed(3)} s`;
  rememberFrame();
  if (S.mode === "video" && S.sourceReady && !videoClock()) seekVideo(meta.time);
  const entry = frameEntry(pos);
  for (let k = 1; k <= S.onion; k++) {
    frameEntry(pos - k);
    frameEntry(pos + k);
  }
  // a few frames ahead in the direction of travel: stepping and playing find them cached
  const dir = pos >= (S.lastPos ?? pos) ? 1 : -1;
  S.lastPos = pos;
  for (let k = 1; k <= AHEAD; k++) frameEntry(pos + dir * k);
  await entry.promise;
  if (token !== showToken) return;
  if (S.onion) {
    await Promise.all(
      [...Array(S.onion).keys()].flatMap((k) => [pos - k - 1, pos + k + 1])
        .map((p) => frameEntry(p)).filter(Boolean).map((e) => e.promise),
    );
    if (token !== showToken) return;
  }
  render();
  updateRenderImage();
  updateStripReadout();
}

// The frame goes into the hash (a reload or a shared link reopens it), at most 4 times a
// second: Chromium ignores history updates made faster than that for long.
let hashTimer = null;
function rememberFrame() {
  if (hashTimer) return;
  hashTimer = setTimeout(() => {
    hashTimer = null;
    const meta = S.frames[S.pos];
    if (S.view === "shot" && meta) {
      history.replaceState(null, "", `#/job/${encodeURIComponent(S.jobId)}?frame=${meta.index}`);
    }
  }, 250);
}

// Stepping over the video. A seek decodes from the last keyframe (a whole 240-frame shot is
// often one GOP), so seeking at every step of a held arrow key would take the cores from the
// strokes: a step that comes SEEK_MS after the last one seeks at once; faster steps move the
// strokes alone and the video lands on the frame SEEK_MS after they stop. One seek at a time.
const SEEK_MS = 150;
let pendingSeek = null;
let lastRequest = -Infinity;
let seekTimer = null;
function seekVideo(time) {
  const now = performance.now();
  const fast = now - lastRequest < SEEK_MS;
  lastRequest = now;
  pendingSeek = time;
  clearTimeout(seekTimer);
  if (fast) seekTimer = setTimeout(flushSeek, SEEK_MS);
  else flushSeek();
}
function flushSeek() {
  seekTimer = null;
  const video = $("video");
  if (pendingSeek === null || video.seeking) return; // "seeked" calls again
  // a hair past the frame's time: the decoder shows the frame that starts at or before it
  video.currentTime = pendingSeek + 1e-3;
  pendingSeek = null;
}
$("video").addEventListener("seeked", flushSeek);

// While playing over the video, the video is the clock: it plays natively (smooth, at the
// chosen speed) and the strokes follow its current time.
function videoClock() {
  return S.playing && S.mode === "video" && S.sourceReady;
}

function posAtTime(t) {
  let lo = 0, hi = S.frames.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (S.frames[mid].time <= t + 1e-3) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function currentEntry() {
  const meta = S.frames[S.pos];
  return meta ? S.cache.get(meta.index) : null;
}

// ---- drawing -------------------------------------------------------------------------------

function render() {
  const canvas = $("canvas");
  const ctx = canvas.getContext("2d");
  const entry = currentEntry();
  const meta = S.frames[S.pos];
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  $("video").hidden = S.mode !== "video";
  $("linemap").hidden = S.mode !== "linemap";
  if (S.mode === "strokes") {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  }
  S.highlighted = [];
  if (!entry || entry.error) {
    const err = entry && entry.error;
    const text = err ? (explain(err, `Frame ${meta.index}`) ?? "") : `Frame ${meta.index} not loaded`;
    S.frameError = text;
    S.drawn = null;
    ctx.fillStyle = "#fde2e1";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "#8a1010";
    ctx.font = `${Math.max(12, canvas.width / 40)}px sans-serif`;
    ctx.fillText(text, 10, canvas.height / 2, canvas.width - 20);
    app.dataset.frameError = "1";
    say(text);
    return;
  }
  S.frameError = null;
  app.dataset.frameError = "0";
  if (S.mode === "linemap") {
    // the engine's raster render of the frame (the line map the score step measures)
    const src = `${jobPath(S.jobId)}/frames/${meta.index}.png`;
    loadImage($("linemap"), src, entry.etag);
  }
  // onion skin: earlier frames red, later frames blue, fading with distance
  for (let k = S.onion; k >= 1; k--) {
    const alpha = 0.45 * (1 - (k - 1) / (S.onion + 1));
    for (const [p, tint] of [[S.pos - k, "rgba(220,40,40,"], [S.pos + k, "rgba(40,90,220,"]]) {
      const e = S.frames[p] && S.cache.get(S.frames[p].index);
      if (!e || !e.data) continue;
      for (const s of e.data.strokes) drawStroke(ctx, s, `${tint}${alpha})`);
    }
  }
  const data = entry.data;
  if (S.mode !== "linemap") {
    for (const s of data.strokes) drawStroke(ctx, s, strokeColour(s, S.colourBy));
    drawPrimitives(ctx, data, "#555");
  }
  if (S.selected !== null) {
    for (const s of data.strokes) {
      if (s.stroke_id !== S.selected) continue;
      S.highlighted.push(s.stroke_id);
      ctx.globalAlpha = 0.55;
      drawStroke(ctx, s, "#ffd400", { widthScale: 1, minWidth: 7 });
      ctx.globalAlpha = 1;
      drawStroke(ctx, s, strokeColour(s, S.colourBy), { minWidth: 2 });
      if (S.edit) drawHandles(ctx, s);
    }
  }
  if (S.drawing && S.drawing.length) {
    ctx.strokeStyle = "#c0c";
    ctx.lineWidth = 2;
    ctx.beginPath();
    S.drawing.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.stroke();
  }
  if (S.drawn !== meta.index) S.shown += 1;
  S.drawn = meta.index;
  app.dataset.frame = String(meta.index);
  app.dataset.selected = S.selected === null ? "" : String(S.selected);
  app.dataset.highlighted = S.highlighted.join(",");
  $("revision").textContent = String(entry.revision);
  $("play").textContent = S.playing ? "❚❚" : "▶";
  updateTrackPanel();
}

function handleSize() {
  const c = $("canvas");
  return Math.max(3, (c.width / c.getBoundingClientRect().width) * 5);
}

function drawHandles(ctx, stroke) {
  const h = handleSize();
  ctx.lineWidth = 1;
  ctx.strokeStyle = "#333";
  stroke.bezier.forEach(([x, y], i) => {
    ctx.fillStyle = i % 3 === 0 ? "#fff" : "#9cf";
    ctx.fillRect(x - h, y - h, 2 * h, 2 * h);
    ctx.strokeRect(x - h, y - h, 2 * h, 2 * h);
  });
}

// An <img> loaded with the API key (fetch + object URL), reloaded when the frame's ETag moves.
async function loadImage(img, src, etag) {
  const key = `${src}@${etag}`;
  if (img.dataset.key === key) return;
  img.dataset.key = key;
  try {
    const { data } = await request(src, { as: "blob" });
    if (img.dataset.key !== key) return;
    if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(data);
    img.dataset.etag = etag || "";
    if (img.id === "render") S.renderEtag = etag;
  } catch (err) {
    say(explain(err, "Cannot load the rendered frame") ?? "");
  }
}

function updateRenderImage() {
  if (!S.edit) return;
  const entry = currentEntry();
  const meta = S.frames[S.pos];
  if (entry && entry.data) loadImage($("render"), `${jobPath(S.jobId)}/frames/${meta.index}.png`, entry.etag);
}

// ---- playback ------------------------------------------------------------------------------

let playTimer = null;

function startPlaying() {
  if (S.playing) return;
  S.playing = true;
  const fps = S.manifest.fps || 24;
  let last = performance.now();
  let acc = 0;
  const video = $("video");
  if (videoClock()) {
    video.loop = true;
    video.playbackRate = S.speed;
    video.play().catch(() => {});
  }
  const tick = (now) => {
    if (!S.playing) return;
    if (videoClock()) {
      // loop over the traced range, as the strokes do (video.loop covers a whole-video trace)
      const first = S.frames[0].time, lastTime = S.frames[S.frames.length - 1].time;
      const outside = video.currentTime > lastTime + 0.5 / fps || video.currentTime < first - 0.5 / fps;
      if (!video.seeking && outside) video.currentTime = first;
      video.playbackRate = S.speed;
      const pos = posAtTime(video.currentTime);
      const entry = currentEntry();
      if (pos !== S.pos && (!entry || entry.data || entry.error)) showFrame(pos);
      last = now;
      playTimer = requestAnimationFrame(tick);
      return;
    }
    acc += ((now - last) / 1000) * fps * S.speed;
    last = now;
    if (acc >= 1) {
      const stepBy = Math.floor(acc);
      acc -= stepBy;
      const entry = currentEntry();
      if (!entry || entry.data || entry.error) {
        // hold on a frame still loading instead of skipping past it
        showFrame((S.pos + stepBy) % S.frames.length);
      }
    }
    playTimer = requestAnimationFrame(tick);
  };
  playTimer = requestAnimationFrame(tick);
  render();
}

function stopPlaying() {
  S.playing = false;
  const video = $("video");
  if (!video.paused) {
    video.pause();
    if (S.manifest) seekVideo(S.frames[S.pos].time); // the video shows the strokes' frame
  }
  if (playTimer) cancelAnimationFrame(playTimer);
  playTimer = null;
  if (S.manifest) $("play").textContent = "▶";
}

function step(delta) {
  stopPlaying();
  const pos = Math.max(0, Math.min(S.frames.length - 1, S.pos + delta));
  return showFrame(pos);
}

$("play").onclick = () => (S.playing ? (stopPlaying(), render()) : startPlaying());
$("step-back").onclick = () => step(-1);
$("step-fwd").onclick = () => step(1);
$("scrub").oninput = () => {
  stopPlaying();
  showFrame(Number($("scrub").value));
};
$("speed").onchange = () => (S.speed = Number($("speed").value));
$("colour-by").onchange = () => {
  S.colourBy = $("colour-by").value;
  render();
};

function setMode(mode) {
  const playing = S.playing;
  stopPlaying(); // the clock changes hands (the video's or the page's)
  S.mode = mode;
  $("mode").value = mode;
  if (mode === "video" && S.sourceReady) seekVideo(S.frames[S.pos].time);
  render();
  if (playing) startPlaying();
}

$("mode").onchange = () => {
  $("mode").dataset.touched = "1";
  setMode($("mode").value);
};

function setOnion(n) {
  S.onion = Math.max(0, Math.min(10, n));
  $("onion").value = String(S.onion);
  showFrame(S.pos);
}
$("onion").onchange = () => setOnion(Number($("onion").value));

// ---- tracks --------------------------------------------------------------------------------

function select(strokeId) {
  S.selected = strokeId;
  render();
}

function updateTrackPanel() {
  const panel = $("track-panel");
  if (S.selected === null) {
    panel.hidden = true;
    return;
  }
  panel.hidden = false;
  $("track-id").textContent = String(S.selected);
  const t = S.tracks.get(S.selected);
  if (!t) {
    $("track-life").textContent = "Not a traced track (added by hand, or not in lines.json).";
    $("track-family").textContent = "";
    drawTimeline(null);
    return;
  }
  $("track-life").textContent =
    `frames ${t.first_frame}–${t.last_frame}, seen in ${t.length}` +
    (t.consistency != null ? `, consistency ${(t.consistency * 100).toFixed(0)}%` : "");
  const fam = $("track-family");
  fam.replaceChildren();
  const links = (label, ids) => {
    if (!ids || !ids.length) return;
    fam.append(`${label}: `);
    for (const id of ids) {
      const a = document.createElement("a");
      a.href = "javascript:void 0";
      a.textContent = String(id);
      a.dataset.track = String(id);
      a.onclick = () => select(id);
      fam.append(a, " ");
    }
  };
  links("split/merged from", t.parents);
  links("split/merged into", t.children);
  if (t.split_from != null) links("piece of", [t.split_from]);
  drawTimeline(t);
}

function drawTimeline(t) {
  const c = $("track-timeline");
  const ctx = c.getContext("2d");
  ctx.clearRect(0, 0, c.width, c.height);
  ctx.fillStyle = "#eee";
  ctx.fillRect(0, 10, c.width, 16);
  const last = S.frames[S.frames.length - 1].index || 1;
  const x = (f) => (f / last) * (c.width - 2) + 1;
  if (t) {
    ctx.fillStyle = "#36c";
    for (const [a, b] of t.frames || [[t.first_frame, t.last_frame]]) {
      ctx.fillRect(x(a), 10, Math.max(2, x(b) - x(a)), 16);
    }
    ctx.fillStyle = "#c60";
    const marks = [...(t.parents || []).map(() => t.first_frame), ...(t.children || []).map(() => t.last_frame)];
    for (const f of marks) ctx.fillRect(x(f) - 1, 2, 3, 8);
  }
  ctx.fillStyle = "#d00";
  ctx.fillRect(x(S.frames[S.pos].index) - 1, 6, 2, 24);
}

function jumpTo(index) {
  stopPlaying();
  showFrame(indexToPos(index));
}
$("jump-start").onclick = () => S.tracks.get(S.selected) && jumpTo(S.tracks.get(S.selected).first_frame);
$("jump-end").onclick = () => S.tracks.get(S.selected) && jumpTo(S.tracks.get(S.selected).last_frame);

// ---- mouse: select, drag a point, draw -----------------------------------------------------

function framePoint(ev) {
  const c = $("canvas");
  const r = c.getBoundingClientRect();
  return [((ev.clientX - r.left) * c.width) / r.width, ((ev.clientY - r.top) * c.height) / r.height];
}

$("canvas").addEventListener("mousedown", (ev) => {
  const entry = currentEntry();
  if (!entry || !entry.data) return;
  const p = framePoint(ev);
  if (S.drawing) {
    S.drawing.push(p);
    render();
    return;
  }
  if (S.edit && S.selected !== null) {
    const stroke = entry.data.strokes.find((s) => s.stroke_id === S.selected);
    const h = handleSize() * 1.5;
    const i = stroke ? stroke.bezier.findIndex(([x, y]) => Math.abs(x - p[0]) <= h && Math.abs(y - p[1]) <= h) : -1;
    if (i >= 0) {
      S.drag = { strokeId: stroke.stroke_id, index: i, from: stroke.bezier.map((q) => [...q]), etag: entry.etag };
      return;
    }
  }
  const tolerance = handleSize() * 1.6;
  const hit = hitStroke(entry.data, p, tolerance);
  select(hit ? hit.stroke_id : null);
});

// on the window: a point dragged past the canvas edge still follows the mouse
window.addEventListener("mousemove", (ev) => {
  if (!S.drag) return;
  const entry = currentEntry();
  const stroke = entry.data.strokes.find((s) => s.stroke_id === S.drag.strokeId);
  const p = framePoint(ev);
  const i = S.drag.index;
  const dx = p[0] - S.drag.from[i][0], dy = p[1] - S.drag.from[i][1];
  stroke.bezier = S.drag.from.map((q) => [...q]);
  stroke.bezier[i] = p;
  if (i % 3 === 0) {
    // a knot takes its two handles along, as drawing programs do
    for (const j of [i - 1, i + 1]) {
      if (j >= 0 && j < stroke.bezier.length) stroke.bezier[j] = [S.drag.from[j][0] + dx, S.drag.from[j][1] + dy];
    }
  }
  render();
});

window.addEventListener("mouseup", async () => {
  if (!S.drag) return;
  const drag = S.drag;
  S.drag = null;
  const entry = currentEntry();
  const stroke = entry.data.strokes.find((s) => s.stroke_id === drag.strokeId);
  const points = stroke.bezier.map(([x, y]) => [Math.round(x * 100) / 100, Math.round(y * 100) / 100]);
  stroke.bezier = drag.from; // shown as it was until the server has accepted the edit
  const moved = points[drag.index];
  const { width, height } = S.manifest.frame_size;
  if (moved[0] < 0 || moved[1] < 0 || moved[0] > width || moved[1] > height) {
    say(`Edit outside the frame: (${moved[0].toFixed(0)}, ${moved[1].toFixed(0)}) is not within ` +
      `0..${width} × 0..${height} px. Nothing was changed.`);
    render();
    return;
  }
  if (points.every((q, i) => q[0] === drag.from[i][0] && q[1] === drag.from[i][1])) {
    render();
    return;
  }
  await edit("PATCH", `strokes/${drag.strokeId}`, { control_points: points });
});

$("canvas").addEventListener("dblclick", () => finishDrawing());

// Pressure along the stroke: the mouse wheel over a knot of the selected stroke raises or
// lowers that knot's pressure by 0.1 a notch (shown at once); 300 ms after the last notch
// the stroke's pressures go to the API as one edit.
let pressureEdit = null;
$("canvas").addEventListener("wheel", (ev) => {
  if (!S.edit || S.selected === null) return;
  const entry = currentEntry();
  const stroke = entry && entry.data && entry.data.strokes.find((s) => s.stroke_id === S.selected);
  if (!stroke) return;
  const p = framePoint(ev);
  const h = handleSize() * 1.5;
  const i = stroke.bezier.findIndex(([x, y], j) => j % 3 === 0 && Math.abs(x - p[0]) <= h && Math.abs(y - p[1]) <= h);
  if (i < 0) return;
  ev.preventDefault();
  if (!pressureEdit || pressureEdit.strokeId !== stroke.stroke_id) {
    pressureEdit = { strokeId: stroke.stroke_id, original: [...stroke.pressure], timer: null };
  }
  const k = i / 3;
  const value = stroke.pressure[k] + (ev.deltaY < 0 ? 0.1 : -0.1);
  stroke.pressure[k] = Math.round(Math.max(0, Math.min(1, value)) * 1000) / 1000;
  say(`Pressure at knot ${k}: ${stroke.pressure[k].toFixed(2)}`);
  render();
  clearTimeout(pressureEdit.timer);
  pressureEdit.timer = setTimeout(() => {
    const done = pressureEdit;
    pressureEdit = null;
    const values = [...stroke.pressure];
    stroke.pressure = done.original; // as the server has it, until it accepts the edit
    edit("PATCH", `strokes/${done.strokeId}`, { pressure: values });
  }, 300);
}, { passive: false });

// ---- edits through the API -----------------------------------------------------------------

function framePath() {
  return `${jobPath(S.jobId)}/frames/${S.frames[S.pos].index}`;
}

// One edit: If-Match with the ETag the page shows, so an edit made elsewhere in between is a
// 412 (reported, the frame reloaded, nothing overwritten). Records the revision it replaced
// for undo. record=false for undo/redo themselves.
async function edit(method, path, body, { record = true } = {}) {
  const entry = currentEntry();
  const index = S.frames[S.pos].index;
  const before = entry.revision;
  try {
    const { data, etag } = await request(`${framePath()}/${path}`, { method, body, ifMatch: entry.etag });
    entry.data = data.data;
    setEtag(entry, etag || data.etag);
    if (record) {
      push(S.undo, index, before);
      S.redo.set(index, []);
    }
    say(`Saved: revision ${entry.revision}.`);
    render();
    updateRenderImage();
    return data;
  } catch (err) {
    if (err instanceof ApiError && err.status === 412) {
      say(`Conflict (412): frame ${index} was changed by someone else since you loaded it. ` +
        "Your edit was not applied; the frame has been reloaded.");
      app.dataset.conflict = "1";
      S.cache.delete(index);
      await frameEntry(S.pos).promise;
      render();
      updateRenderImage();
      return null;
    }
    say(explain(err, "Edit refused") ?? "");
    render();
    return null;
  }
}

function push(map, index, value) {
  if (!map.has(index)) map.set(index, []);
  map.get(index).push(value);
}

async function undo() {
  const entry = currentEntry();
  const index = S.frames[S.pos].index;
  let target = (S.undo.get(index) || []).pop();
  if (target === undefined) target = entry.revision > 0 ? entry.revision - 1 : undefined;
  if (target === undefined) return say("Nothing to undo on this frame.");
  const from = entry.revision;
  if (await edit("POST", `revisions/${target}/restore`, undefined, { record: false })) {
    push(S.redo, index, from);
    say(`Undone: revision ${target} restored (as revision ${currentEntry().revision}).`);
  }
}

async function redo() {
  const index = S.frames[S.pos].index;
  const target = (S.redo.get(index) || []).pop();
  if (target === undefined) return say("Nothing to redo on this frame.");
  const from = currentEntry().revision;
  if (await edit("POST", `revisions/${target}/restore`, undefined, { record: false })) {
    push(S.undo, index, from);
    say(`Redone: revision ${target} restored.`);
  }
}

function setEdit(on) {
  if (on && !S.info.editable) {
    say("This server is read-only: edits need the AXIS service (axis serve axis).");
    return;
  }
  S.edit = on;
  app.dataset.edit = on ? "on" : "off";
  $("edit-panel").hidden = !on;
  if (!on) S.drawing = null;
  render();
  updateRenderImage();
}

function deleteSelected() {
  if (S.selected === null) return say("Select a stroke first.");
  const id = S.selected;
  S.selected = null;
  return edit("DELETE", `strokes/${id}`);
}

function pressure(delta) {
  if (S.selected === null) return say("Select a stroke first.");
  return edit("PATCH", `strokes/${S.selected}`, { delta_pressure: delta });
}

function startDrawing() {
  S.drawing = [];
  say("Drawing: click points along the new stroke, double-click or Enter to finish, Esc to cancel.");
}

async function finishDrawing() {
  if (!S.drawing) return;
  const points = S.drawing.filter((p, i, a) => i === 0 || Math.hypot(p[0] - a[i - 1][0], p[1] - a[i - 1][1]) > 1);
  S.drawing = null;
  const chain = chainThrough(points);
  if (!chain) {
    say("A new stroke needs at least two points.");
    return render();
  }
  const result = await edit("POST", "strokes", { control_points: chain });
  if (result) select(result.stroke_id);
}

$("edit-toggle").onclick = () => setEdit(!S.edit);
$("delete").onclick = () => deleteSelected();
$("thinner").onclick = () => pressure(-0.1);
$("thicker").onclick = () => pressure(0.1);
$("draw").onclick = () => startDrawing();
$("undo").onclick = () => undo();
$("redo").onclick = () => redo();

// ---- metrics strip -------------------------------------------------------------------------

async function loadMetrics(token) {
  let text;
  try {
    text = (await request(`${jobPath(S.jobId)}/metrics.jsonl`, { as: "text" })).data;
  } catch (err) {
    $("strip-readout").textContent = explain(err, "No metrics") ?? "";
    return;
  }
  if (token !== routeToken) return;
  const perFrame = new Map();
  const slowest = new Map();
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let r;
    try {
      r = JSON.parse(line);
    } catch (_) {
      continue; // a torn last line of a run cut short
    }
    if (r.type === "frame") perFrame.set(r.frame, r);
    if (r.type === "step" && r.frame !== null && r.frame !== undefined) {
      const s = slowest.get(r.frame);
      if (!s || r.duration_ms > s.ms) slowest.set(r.frame, { step: r.step, ms: r.duration_ms });
    }
  }
  const keys = new Set(["strokes", "frame_ms"]);
  for (const r of perFrame.values()) for (const k of Object.keys(r.metrics || {})) keys.add(k);
  const select = $("strip-metric");
  select.replaceChildren(...[...keys].map((k) => new Option(k, k)));
  S.metrics = { perFrame, slowest, keys: [...keys] };
  select.onchange = () => drawStrip();
  drawStrip();
  updateStripReadout();
}

function metricValue(index, key) {
  const r = S.metrics.perFrame.get(index);
  if (!r) return null;
  if (key === "strokes") {
    const meta = S.frames[indexToPos(index)];
    return meta.index === index ? meta.stroke_count : null;
  }
  if (key === "frame_ms") return r.duration_ms;
  const v = r.metrics && r.metrics[key];
  return typeof v === "number" ? v : null;
}

// The strip's bars are drawn once (per metric and width) into an offscreen canvas; a frame
// change only copies it and draws the marker, so stepping stays cheap on long shots.
function drawStrip() {
  if (!S.metrics) return;
  const c = $("strip");
  const width = Math.round(c.getBoundingClientRect().width) || 800;
  const key = $("strip-metric").value;
  if (!S.stripBase || S.stripBase.key !== `${key}@${width}`) {
    if (c.width !== width) c.width = width;
    const base = document.createElement("canvas");
    base.width = width;
    base.height = c.height;
    drawStripBars(base, key);
    S.stripBase = { key: `${key}@${width}`, canvas: base };
  }
  const ctx = c.getContext("2d");
  ctx.clearRect(0, 0, c.width, c.height);
  ctx.drawImage(S.stripBase.canvas, 0, 0);
  const w = c.width / S.frames.length;
  ctx.fillStyle = "rgba(220, 0, 0, 0.4)";
  ctx.fillRect(S.pos * w, 0, Math.max(2, w), c.height);
}

function drawStripBars(c, key) {
  const ctx = c.getContext("2d");
  const values = S.frames.map((f) => metricValue(f.index, key));
  const finite = values.filter((v) => v !== null);
  const lo = Math.min(0, ...finite), hi = Math.max(...finite, lo + 1e-9);
  const w = c.width / S.frames.length;
  ctx.clearRect(0, 0, c.width, c.height);
  const steps = [...new Set([...S.metrics.slowest.values()].map((s) => s.step))];
  S.frames.forEach((f, i) => {
    const v = values[i];
    if (v !== null) {
      const h = ((v - lo) / (hi - lo)) * (c.height - 12);
      ctx.fillStyle = "#6a8";
      ctx.fillRect(i * w, c.height - h, Math.max(1, w - 0.5), h);
    }
    const s = S.metrics.slowest.get(f.index);
    if (s) {
      ctx.fillStyle = `hsl(${(steps.indexOf(s.step) * 67) % 360}, 70%, 50%)`;
      ctx.fillRect(i * w, 0, Math.max(1, w - 0.5), 6);
    }
  });
}

function updateStripReadout() {
  if (!S.metrics) return;
  drawStrip();
  const index = S.frames[S.pos].index;
  const parts = [`frame ${index}`];
  for (const k of S.metrics.keys) {
    const v = metricValue(index, k);
    if (v !== null) parts.push(`${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`);
  }
  const s = S.metrics.slowest.get(index);
  if (s) parts.push(`slowest step: ${s.step} ${s.ms.toFixed(1)} ms`);
  $("strip-readout").textContent = parts.join(" · ");
}

$("strip").addEventListener("click", (ev) => {
  const r = $("strip").getBoundingClientRect();
  const pos = Math.floor(((ev.clientX - r.left) / r.width) * S.frames.length);
  stopPlaying();
  showFrame(Math.max(0, Math.min(S.frames.length - 1, pos)));
});

// ---- keys ----------------------------------------------------------------------------------

window.addEventListener("keydown", (ev) => {
  if (S.view !== "shot" || !S.manifest) return;
  if (ev.target instanceof HTMLInputElement && ev.target.type !== "range") return;
  const k = ev.key;
  const ctrl = ev.ctrlKey || ev.metaKey;
  let handled = true;
  if (k === " ") S.playing ? (stopPlaying(), render()) : startPlaying();
  else if (k === "ArrowRight") step(ev.shiftKey ? 10 : 1);
  else if (k === "ArrowLeft") step(ev.shiftKey ? -10 : -1);
  else if (k === "Home") step(-S.frames.length);
  else if (k === "End") step(S.frames.length);
  else if (k === "[") setOnion(S.onion - 1);
  else if (k === "]") setOnion(S.onion + 1);
  else if (k === "e" && !ctrl) setEdit(!S.edit);
  else if ((k === "Delete" || k === "Backspace") && S.edit) deleteSelected();
  else if (ctrl && (k === "z" || k === "Z") && S.edit) ev.shiftKey ? redo() : undo();
  else if (ctrl && k === "y" && S.edit) redo();
  else if (k === "Enter" && S.drawing) finishDrawing();
  else if (k === "Escape") {
    S.drawing = null;
    select(null);
  } else handled = false;
  if (handled) ev.preventDefault();
});

window.addEventListener("resize", () => drawStrip());

route();
