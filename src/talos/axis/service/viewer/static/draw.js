// Drawing a frame's strokes on a Canvas 2D context, and finding the stroke under the mouse.
// A stroke is a cubic Bézier chain: bezier[0], then 3 points per segment (handle, handle,
// knot), with a pressure per knot; its drawn width is width × pressure, per segment.

const PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#008080",
  "#f032e6", "#9a6324", "#800000", "#000075", "#808000", "#469990"];

const named = new Map();

function paletteFor(kind, name) {
  const key = `${kind}:${name}`;
  if (!named.has(key)) {
    const count = [...named.keys()].filter((k) => k.startsWith(`${kind}:`)).length;
    named.set(key, PALETTE[count % PALETTE.length]);
  }
  return named.get(key);
}

// The colour of a stroke: its track (stroke_id, golden-angle hues so neighbours differ),
// its layer or its style class.
export function strokeColour(stroke, colourBy) {
  if (colourBy === "layer") return paletteFor("layer", stroke.layer);
  if (colourBy === "style") return paletteFor("style", stroke.style_class);
  const hue = (stroke.stroke_id * 137.508) % 360;
  return `hsl(${hue.toFixed(1)}, 80%, 42%)`;
}

export function segments(stroke) {
  const b = stroke.bezier;
  const out = [];
  for (let i = 0; i + 3 < b.length; i += 3) out.push([b[i], b[i + 1], b[i + 2], b[i + 3]]);
  return out;
}

function pressureAt(stroke, knot) {
  const p = stroke.pressure;
  if (!p || p.length === 0) return 1;
  return p[Math.min(knot, p.length - 1)];
}

// One stroke: each segment with the mean pressure of its two knots.
export function drawStroke(ctx, stroke, colour, { widthScale = 1, minWidth = 0.5 } = {}) {
  ctx.strokeStyle = colour;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  segments(stroke).forEach((seg, k) => {
    const pressure = 0.5 * (pressureAt(stroke, k) + pressureAt(stroke, k + 1));
    ctx.lineWidth = Math.max(minWidth, stroke.width * pressure * widthScale);
    ctx.beginPath();
    ctx.moveTo(seg[0][0], seg[0][1]);
    ctx.bezierCurveTo(seg[1][0], seg[1][1], seg[2][0], seg[2][1], seg[3][0], seg[3][1]);
    ctx.stroke();
  });
}

export function drawPrimitives(ctx, data, colour) {
  ctx.strokeStyle = colour;
  ctx.lineWidth = 1.5;
  for (const c of data.circles || []) {
    ctx.beginPath();
    ctx.arc(c.center[0], c.center[1], c.radius, 0, 2 * Math.PI);
    ctx.stroke();
  }
  for (const t of data.triangles || []) {
    const v = t.vertices;
    ctx.beginPath();
    ctx.moveTo(v[0][0], v[0][1]);
    ctx.lineTo(v[1][0], v[1][1]);
    ctx.lineTo(v[2][0], v[2][1]);
    ctx.closePath();
    ctx.stroke();
  }
}

function cubic(seg, t) {
  const u = 1 - t;
  const a = u * u * u, b = 3 * u * u * t, c = 3 * u * t * t, d = t * t * t;
  return [
    a * seg[0][0] + b * seg[1][0] + c * seg[2][0] + d * seg[3][0],
    a * seg[0][1] + b * seg[1][1] + c * seg[2][1] + d * seg[3][1],
  ];
}

function distToSegment(p, a, b) {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  let t = len2 > 0 ? ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2 : 0;
  t = Math.max(0, Math.min(1, t));
  const x = a[0] + t * dx - p[0], y = a[1] + t * dy - p[1];
  return Math.sqrt(x * x + y * y);
}

// The stroke nearest to point p (frame px) within tolerance px, or null.
export function hitStroke(data, p, tolerance) {
  let best = null;
  let bestDist = tolerance;
  for (const stroke of data.strokes) {
    for (const seg of segments(stroke)) {
      let prev = seg[0];
      for (let i = 1; i <= 12; i++) {
        const next = cubic(seg, i / 12);
        const d = distToSegment(p, prev, next);
        if (d < bestDist) {
          bestDist = d;
          best = stroke;
        }
        prev = next;
      }
    }
  }
  return best;
}

// A smooth Bézier chain through clicked points (Catmull-Rom handles), for a new stroke.
export function chainThrough(points) {
  if (points.length < 2) return null;
  const at = (i) => points[Math.max(0, Math.min(points.length - 1, i))];
  const out = [points[0]];
  for (let i = 0; i + 1 < points.length; i++) {
    const p0 = at(i - 1), p1 = at(i), p2 = at(i + 1), p3 = at(i + 2);
    out.push([p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6]);
    out.push([p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6]);
    out.push(p2);
  }
  return out.map(([x, y]) => [Math.round(x * 100) / 100, Math.round(y * 100) / 100]);
}
