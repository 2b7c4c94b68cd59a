#!/usr/bin/env python3
"""Draw cooldownd's exercise illustrations: writes the SVG files in cooldownd/assets/.

Our own art, one line style: a light rounded tile, a teal mat, a stick figure with thick round
strokes (near limbs dark, far limbs grey), the working part in orange, props in brown. Poses are
joint coordinates on a 256 x 256 canvas. Left/right variants are the same pose mirrored (a mirror
swaps the body's sides, so the near limb of the mirrored figure is the other side), with an L/R
badge drawn as strokes (no fonts). Run it after changing a pose; tests check the files match.
Usage: python3 tools/draw_figures.py [OUTDIR]
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "cooldownd" / "assets"
INK, FAR, ACCENT, PROP, MAT, TILE = "#26384d", "#9aa8b8", "#e0702f", "#8a6a48", "#5fa89c", "#f6f2ea"
STYLE = (f".b{{fill:none;stroke:{INK};stroke-width:16;stroke-linecap:round;stroke-linejoin:round}}"
         f".f{{fill:none;stroke:{FAR};stroke-width:16;stroke-linecap:round;stroke-linejoin:round}}"
         f".a{{fill:none;stroke:{ACCENT};stroke-width:16;stroke-linecap:round;stroke-linejoin:round}}"
         f".m{{fill:none;stroke:{ACCENT};stroke-width:7;stroke-linecap:round;stroke-linejoin:round}}"
         f".p{{fill:none;stroke:{PROP};stroke-width:10;stroke-linecap:round;stroke-linejoin:round}}"
         f".g{{fill:none;stroke:{MAT};stroke-width:10;stroke-linecap:round}}"
         f".h{{fill:{INK}}}.ah{{fill:{ACCENT}}}")
FLOOR = 212  # top of the mat


def pts(*points: tuple[float, float]) -> str:
    return " ".join(f"{x:.0f},{y:.0f}" for x, y in points)


def line(cls: str, *points: tuple[float, float]) -> str:
    return f'<polyline class="{cls}" points="{pts(*points)}"/>'


def path(cls: str, d: str) -> str:
    return f'<path class="{cls}" d="{d}"/>'


def head(x: float, y: float, r: float = 16) -> str:
    return f'<circle class="h" cx="{x:.0f}" cy="{y:.0f}" r="{r}"/>'


def mat(x0: float = 22, x1: float = 234) -> str:
    return f'<line class="g" x1="{x0}" y1="{FLOOR + 5}" x2="{x1}" y2="{FLOOR + 5}"/>'


def arrowhead(tip: tuple[float, float], angle_deg: float, size: float = 16) -> str:
    """A filled triangle pointing along ``angle_deg`` (0 = right, 90 = down) with its tip at ``tip``."""
    a = math.radians(angle_deg)
    bx, by = tip[0] - size * math.cos(a), tip[1] - size * math.sin(a)
    wx, wy = -math.sin(a) * size * 0.6, math.cos(a) * size * 0.6
    return f'<polygon class="ah" points="{pts(tip, (bx + wx, by + wy), (bx - wx, by - wy))}"/>'


def arc_arrow(cx: float, cy: float, r: float, start: float, end: float, *, both: bool = False) -> str:
    """An arc (degrees, clockwise on screen from ``start`` to ``end``) ending in an arrowhead."""
    def at(deg: float) -> tuple[float, float]:
        return cx + r * math.cos(math.radians(deg)), cy + r * math.sin(math.radians(deg))
    trim = 10 / r * 180 / math.pi  # leave room for the head
    s, e = at(start + (trim if both else 0)), at(end - trim)
    large = 1 if (end - start) % 360 > 180 else 0
    out = [path("m", f"M{s[0]:.0f},{s[1]:.0f} A{r},{r} 0 {large} 1 {e[0]:.0f},{e[1]:.0f}"),
           arrowhead(at(end), end + 90)]
    if both:
        out.append(arrowhead(at(start), start - 90))
    return "".join(out)


def straight_arrow(a: tuple[float, float], b: tuple[float, float]) -> str:
    ang = math.degrees(math.atan2(b[1] - a[1], b[0] - a[0]))
    shaft_end = (b[0] - 10 * math.cos(math.radians(ang)), b[1] - 10 * math.sin(math.radians(ang)))
    return line("m", a, shaft_end) + arrowhead(b, ang)


def badge(letter: str) -> str:
    """An L or R in a circle, top right, drawn as strokes so it needs no font."""
    cx, cy = 218, 38
    if letter == "L":
        glyph = line("bw", (cx - 6, cy - 12), (cx - 6, cy + 12), (cx + 8, cy + 12))
    else:
        glyph = path("bw", f"M{cx - 7},{cy + 12} V{cy - 12} H{cx + 1} A6.5,6.5 0 0 1 {cx + 1},{cy + 1} "
                           f"H{cx - 7} M{cx - 1},{cy + 1} L{cx + 8},{cy + 12}")
    return (f'<circle cx="{cx}" cy="{cy}" r="24" fill="{ACCENT}"/>'
            f'<g style="fill:none;stroke:#fff;stroke-width:5;stroke-linecap:round;stroke-linejoin:round">'
            + glyph.replace('class="bw" ', "") + "</g>")


def svg(body: str, *, mirror: bool = False, letter: str | None = None, title: str = "") -> str:
    if mirror:
        body = f'<g transform="translate(256,0) scale(-1,1)">{body}</g>'
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">'
            f"<title>{title}</title><style>{STYLE}</style>"
            f'<rect x="2" y="2" width="252" height="252" rx="40" fill="{TILE}"/>'
            f"{body}{badge(letter) if letter else ''}</svg>\n")


# -- poses ---------------------------------------------------------------------------------------

def supine(legs: str, arms: str, *, extra: str = "") -> str:
    """Lying on the back, head left: the shared part of the floor exercises."""
    y = FLOOR - 9
    return mat() + extra + line("b", (58, y), (128, y)) + legs + arms + head(40, FLOOR - 17)


def knees_to_chest_one() -> str:
    y = FLOOR - 9
    far_leg = line("f", (128, y), (178, y), (222, y), (228, y - 16))
    near_leg = line("a", (128, y), (102, y - 44), (146, y - 44), (152, y - 58))
    arms = line("b", (66, y - 2), (78, y - 30), (100, y - 48))
    return supine(far_leg + near_leg, arms)


def knees_to_chest_both() -> str:
    y = FLOOR - 9
    far_leg = line("f", (128, y), (110, y - 48), (154, y - 50), (160, y - 64))
    near_leg = line("a", (128, y), (102, y - 44), (146, y - 44), (152, y - 58))
    arms = line("b", (66, y - 2), (78, y - 30), (100, y - 48))
    return supine(far_leg + near_leg, arms)


def lumbar_press() -> str:
    y = FLOOR - 9
    seat = 160
    chair = (line("p", (160, seat), (226, seat)) + line("p", (222, seat), (222, 92))
             + line("p", (168, seat), (168, FLOOR)) + line("p", (222, seat), (222, FLOOR)))
    shin = seat - 13
    legs = (line("f", (128, y), (146, shin - 4), (204, shin - 4))
            + line("b", (128, y), (138, shin), (198, shin), (204, shin - 14)))
    arms = line("b", (66, y - 2), (96, y + 2), (116, y + 2))
    press = straight_arrow((108, 150), (108, 184)) + line("a", (96, y), (128, y))
    return supine(legs, arms, extra=chair) + press


def all_fours(back: str, neck: tuple[float, float], head_at: tuple[float, float]) -> str:
    """On hands and knees, head left; ``back`` is the spine path from shoulders (80,122) to hips (168,122)."""
    sh, hip = (80, 122), (168, 122)
    far = line("f", (sh[0] + 10, sh[1]), (sh[0] + 10, FLOOR - 8)) + line("f", (hip[0] + 8, hip[1]), (hip[0] + 8, FLOOR - 8), (226, FLOOR - 8))
    near = line("b", sh, (sh[0], FLOOR - 8), (sh[0] - 14, FLOOR - 8)) + line("b", hip, (hip[0], FLOOR - 8), (218, FLOOR - 8))
    return mat() + far + near + back + line("b", sh, neck) + head(*head_at)


SUNK, ROUND = "M80,122 Q124,162 168,122", "M80,122 Q124,74 168,122"


def cat_sunk() -> str:
    return all_fours(path("a", SUNK), (66, 100), (54, 82)) + straight_arrow((124, 92), (124, 124))


def cat_round() -> str:
    return all_fours(path("a", ROUND), (66, 140), (54, 154)) + straight_arrow((124, 80), (124, 46))


def cat_both() -> str:
    """Both positions at once: the rounded back in orange, the sunk one in grey, and the way between."""
    ghost = path("f", SUNK)
    return (all_fours(ghost + path("a", ROUND), (66, 140), (54, 154))
            + straight_arrow((124, 56), (124, 88)) + straight_arrow((124, 84), (124, 36)))


def child_pose() -> str:
    hip, knee, foot = (194, FLOOR - 40), (146, FLOOR - 8), (212, FLOOR - 8)
    legs = line("f", hip, (152, FLOOR - 12), (206, FLOOR - 12)) + line("b", hip, knee, foot, (226, FLOOR - 14))
    torso = path("b", f"M{hip[0]},{hip[1]} Q160,{FLOOR - 66} 118,{FLOOR - 38}")
    arms = line("a", (120, FLOOR - 40), (80, FLOOR - 10), (30, FLOOR - 8))
    return mat() + legs + arms + torso + head(100, FLOOR - 22) + straight_arrow((84, 154), (34, 154))


def standing(arms: str, *, far_arm: str = "", facing_front: bool = False) -> str:
    """Standing tall; ``arms`` from the shoulder at (128, 84)."""
    legs = (line("b", (118, 152), (114, 198), (112, FLOOR - 6)) + line("b", (138, 152), (142, 198), (144, FLOOR - 6))
            if facing_front else  # in profile facing left: toes point left
            line("f", (128, 152), (122, 196), (122, FLOOR - 6), (106, FLOOR - 6))
            + line("b", (128, 152), (132, 196), (132, FLOOR - 6), (116, FLOOR - 6)))
    torso = line("b", (128, 72), (128, 152))
    if facing_front:
        torso = line("b", (128, 72), (128, 150)) + line("b", (102, 82), (154, 82)) + line("b", (116, 152), (140, 152))
    nose = "" if facing_front else f'<polygon class="h" points="{pts((114, 38), (102, 52), (116, 56))}"/>'
    return mat() + far_arm + legs + torso + arms + nose + head(128, 46, 18)


def trapezius() -> str:
    """Profile facing left; the near arm reaches back and down, hand open as for a handshake."""
    far = line("f", (128, 84), (122, 120), (120, 152))
    arm = line("a", (128, 84), (150, 116), (178, 136), (190, 134))
    return standing(arm, far_arm=far) + straight_arrow((176, 160), (206, 172))


def turns() -> str:
    """From the front, arms forward, hands clasped in front of the chest; the circle they draw."""
    arms = line("b", (104, 84), (116, 110), (128, 116)) + line("b", (152, 84), (140, 110), (128, 116))
    hands = '<circle class="ah" cx="128" cy="116" r="10"/>'
    return standing(arms + hands, facing_front=True) + arc_arrow(128, 116, 50, 160, 380)


def neutral() -> str:
    arms = line("b", (104, 84), (96, 122), (92, 152)) + line("b", (152, 84), (160, 122), (164, 152))
    return standing(arms, facing_front=True)


def icon() -> str:
    """The app icon: the cat's rounded back on a dark tile (reads at 32 px as an arch over a mat)."""
    body = all_fours(path("a", ROUND), (66, 140), (54, 154)).replace('class="h"', 'fill="#ffffff"')
    style = STYLE.replace(f".b{{fill:none;stroke:{INK}", ".b{fill:none;stroke:#ffffff").replace(
        f".f{{fill:none;stroke:{FAR}", ".f{fill:none;stroke:#6f8399")
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">'
            f"<title>cooldownd</title><style>{style}</style>"
            f'<rect x="2" y="2" width="252" height="252" rx="56" fill="{INK}"/>'
            f'<g transform="translate(0,-14)">{body}</g></svg>\n')


def figures() -> dict[str, str]:
    """File name -> SVG text."""
    one, tr, tu = knees_to_chest_one(), trapezius(), turns()
    return {
        # Head left, lying on the back: the near side is the person's right; mirrored, the left.
        "knees_to_chest_right.svg": svg(one, letter="R", title="Knees to chest, right knee"),
        "knees_to_chest_left.svg": svg(one, mirror=True, letter="L", title="Knees to chest, left knee"),
        "knees_to_chest_both.svg": svg(knees_to_chest_both(), title="Both knees to chest"),
        "cat.svg": svg(cat_both(), title="The cat: back sinks, then rounds"),
        "cat_sunk.svg": svg(cat_sunk(), title="The cat: back sunk, head up"),
        "cat_round.svg": svg(cat_round(), title="The cat: back rounded, chin in"),
        "child_pose.svg": svg(child_pose(), title="Child's pose"),
        "lumbar_press.svg": svg(lumbar_press(), title="Lumbar press, heels on a chair"),
        # Standing in profile facing left: the near arm is the left one; mirrored, the right.
        "trapezius_left.svg": svg(tr, letter="L", title="Trapezius stretch, left arm"),
        "trapezius_right.svg": svg(tr, mirror=True, letter="R", title="Trapezius stretch, right arm"),
        # Seen from the front the person's right is the viewer's left: right, up, left is clockwise.
        "turns_right.svg": svg(tu, letter="R", title="Arm turns: right, up, left"),
        "turns_left.svg": svg(tu, mirror=True, letter="L", title="Arm turns: left, up, right"),
        "exercise.svg": svg(neutral(), title="Exercise"),
        "icon.svg": icon(),
    }


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    out.mkdir(parents=True, exist_ok=True)
    for name, text in figures().items():
        (out / name).write_text(text, encoding="utf-8")
        print(f"{name:28} {len(text.encode()):6d} bytes")


if __name__ == "__main__":
    main()
