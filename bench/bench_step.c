/*
 * bench_step.c - Car Tag steps per second in-process: the exact referee step
 * (fmsp_step) with trivial policies (turn towards the evader, run away; computed inline),
 * no sandbox. Prints one line per configuration; compare with
 * bench/step_python.py run in the same session (bench/run.sh does both).
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/util.h"
#include "domains/cartag/cartag.h"

static double run(const FmspParams *p, long target_steps, long *steps_out, double *checksum)
{
    long steps = 0;
    double sum = 0;
    uint64_t ep = 0;
    double t0 = util_now();
    while (steps < target_steps) {
        FmspState s;
        cartag_reset(p, cartag_episode_seed(7, (int)ep++), &s);
        while (!fmsp_done(p, &s)) {
            /* trivial pursuer: turn fully towards the side the evader is on
             * (cross product of heading and line of sight, no trigonometry
             * beyond the heading) */
            double dx = s.xe - s.xp, dy = s.ye - s.yp;
            double cross = cos(s.theta) * dy - sin(s.theta) * dx;
            double u = cross > 0 ? 1.0 : -1.0;
            /* trivial evader: run straight away from the car */
            double d = sqrt(dx * dx + dy * dy) + 1e-12;
            fmsp_step(p, &s, u, p->ve * dx / d, p->ve * dy / d);
            steps++;
        }
        sum += s.t;
    }
    *steps_out = steps;
    *checksum = sum;
    return util_now() - t0;
}

int main(int argc, char **argv)
{
    long target = argc > 1 ? atol(argv[1]) : 20000000;
    const char *names[] = {"arena", "open"};
    for (int i = 0; i < 2; i++) {
        FmspParams p;
        char err[128];
        cartag_scenario(names[i], &p, err, sizeof err);
        long steps;
        double checksum;
        double sec = run(&p, target, &steps, &checksum);
        printf("bench_step: scenario %-6s %ld steps in %.3f s = %.2f M steps/s (checksum %.3f)\n",
               names[i], steps, sec, steps / sec / 1e6, checksum);
    }
    return 0;
}
