#!/usr/bin/env python3
"""Reference point for bench_step: the same Car Tag step (exact arc, walls,
capture) with the same trivial policies, in plain Python. The issue quotes
about 0.6 M steps/s for such an implementation; this measures it here so
bench/run.sh can print the ratio from one run on one machine."""
import math
import sys
import time


def wrap(a):
    return (a + math.pi) % (2 * math.pi) - math.pi


def run(target):
    vp, R, ve, l, dt, T, H = 1.0, 1.0, 0.5, 0.3, 0.05, 40.0, 10.0
    max_steps = round(T / dt)
    steps = 0
    ep = 0
    t0 = time.perf_counter()
    while steps < target:
        # deterministic varied starts (not the engine's RNG; the cost is the same)
        xp, yp, th = -5.0 + (ep % 7), -5.0 + (ep % 5), 0.3 * ep
        xe, ye = 5.0 - (ep % 3), 5.0 - (ep % 4)
        ep += 1
        step = 0
        while step < max_steps:
            dx, dy = xe - xp, ye - yp
            u = 1.0 if math.cos(th) * dy - math.sin(th) * dx > 0 else -1.0
            d = math.sqrt(dx * dx + dy * dy) + 1e-12
            vx, vy = ve * dx / d, ve * dy / d
            w = vp / R * u
            half = 0.5 * w * dt
            h2 = half * half
            sinc = (1.0 - h2 / 6.0 * (1.0 - h2 / 20.0 * (1.0 - h2 / 42.0 * (1.0 - h2 / 72.0)))
                    if abs(half) < 0.1 else math.sin(half) / half)
            chord = vp * dt * sinc
            xp += chord * math.cos(th + half)
            yp += chord * math.sin(th + half)
            th = wrap(th + w * dt)
            xe += vx * dt
            ye += vy * dt
            xp = max(-H, min(H, xp))
            yp = max(-H, min(H, yp))
            xe = max(-H, min(H, xe))
            ye = max(-H, min(H, ye))
            step += 1
            steps += 1
            dx, dy = xe - xp, ye - yp
            if dx * dx + dy * dy <= l * l:
                break
    sec = time.perf_counter() - t0
    print("step_python: %d steps in %.3f s = %.3f M steps/s" % (steps, sec, steps / sec / 1e6))


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 1000000)
