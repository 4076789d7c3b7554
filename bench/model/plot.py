#!/usr/bin/python3
"""Time per token against memory length, from bench.py's JSON results, as an SVG.

    plot.py OUT.svg RESULT.json [RESULT.json ...]

One line per side (txl, torch) per result file: every segment's time divided by the
tokens it computed (batch x T), at the memory rows M it attended over. Plain SVG, no
plotting library: Debian's python3 here has none, and the figure is simple.
"""
import json
import sys

WIDTH, HEIGHT = 720, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 190, 30, 50
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
           "#e377c2", "#7f7f7f"]


def series(paths):
    out = []
    for path in paths:
        with open(path) as f:
            r = json.load(f)
        tokens_per_segment = r.get("batch", 1) * r["T"]
        for side, seg in r.get("per_segment", {}).items():
            points = [(m, 1e3 * s / tokens_per_segment)
                      for m, s in zip(seg["mem_rows"], seg["seg_s"])]
            label = "%s %s b%d t%d" % (side, r.get("model", ""), r.get("batch", 1),
                                       r["threads"])
            out.append((label, points))
    return out


def nice_ceiling(v):
    for step in (1, 2, 2.5, 5):
        for scale in (0.001, 0.01, 0.1, 1, 10, 100, 1000):
            if step * scale >= v:
                return step * scale
    return v


def render(lines):
    xmax = max(m for _, pts in lines for m, _ in pts) or 1
    ymax = nice_ceiling(max(t for _, pts in lines for _, t in pts) * 1.05)
    pw, ph = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(v):
        return LEFT + pw * v / xmax

    def y(v):
        return TOP + ph * (1 - v / ymax)

    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="12">' % (WIDTH, HEIGHT),
           '<rect width="100%" height="100%" fill="white"/>']
    for i in range(6):
        v = ymax * i / 5
        svg.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>'
                   % (LEFT, LEFT + pw, y(v), y(v)))
        svg.append('<text x="%d" y="%.1f" text-anchor="end">%g</text>'
                   % (LEFT - 6, y(v) + 4, round(v, 4)))
    for i in range(6):
        v = xmax * i / 5
        svg.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>'
                   % (x(v), TOP + ph + 18, round(v)))
    svg.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="black"/>'
               % (LEFT, LEFT + pw, TOP + ph, TOP + ph))
    svg.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="black"/>'
               % (LEFT, LEFT, TOP, TOP + ph))
    svg.append('<text x="%d" y="%d" text-anchor="middle">memory rows attended (M)</text>'
               % (LEFT + pw // 2, HEIGHT - 10))
    svg.append('<text x="16" y="%d" transform="rotate(-90 16 %d)" text-anchor="middle">'
               'ms per token</text>' % (TOP + ph // 2, TOP + ph // 2))
    for i, (label, pts) in enumerate(lines):
        colour = COLOURS[i % len(COLOURS)]
        path = " ".join("%.1f,%.1f" % (x(m), y(t)) for m, t in pts)
        svg.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>'
                   % (colour, path))
        for m, t in pts:
            svg.append('<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>' % (x(m), y(t), colour))
        ly = TOP + 14 + 18 * i
        svg.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"/>'
                   % (LEFT + pw + 12, LEFT + pw + 32, ly - 4, ly - 4, colour))
        svg.append('<text x="%d" y="%d">%s</text>' % (LEFT + pw + 36, ly, label))
    svg.append("</svg>")
    return "\n".join(svg) + "\n"


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    lines = series(sys.argv[2:])
    if not lines:
        raise SystemExit("plot.py: no per-segment times in %s" % " ".join(sys.argv[2:]))
    with open(sys.argv[1], "w") as f:
        f.write(render(lines))


if __name__ == "__main__":
    main()
