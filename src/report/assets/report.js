/*
 * report.js - draws an fmsp report page from the JSON object embedded in
 * <script type="application/json" id="fmsp-data"> (docs/report-format.md):
 * uPlot line charts for the curves, hand-written SVG for the archive maps and
 * lineage trees, HTML tables for the rest, a canvas for Car Tag replays.
 *
 * The data are hostile: sources, reasons, prompts and transcripts are text a
 * model or a program wrote. They reach the page only through textContent and
 * setAttribute, never innerHTML. Any field may be missing or null: a section
 * then says "not available: why". A section that throws anyway is replaced by
 * a visible error line, also sent to the console so the tests catch it.
 *
 * The replay is driven by setInterval, not requestAnimationFrame: headless
 * Chromium under a virtual-time budget runs timers but almost no animation
 * frames, and the tests check that the replay moves.
 *
 * Plain ES2017, no modules, no network, no eval (the page's CSP forbids them).
 */
(function () {
    'use strict';

    var SVGNS = 'http://www.w3.org/2000/svg';
    var RUN_COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b',
        '#e377c2', '#17becf'];
    var MAX_DIFF_CELLS = 4e6; /* LCS table cells before the diff gives up on alignment */

    /* ---- helpers: elements, values, formatting ---- */

    /* Appends children to a node: Nodes as they are, anything else as text. */
    function append(node, children) {
        children.forEach(function (c) {
            if (c == null || c === false) return;
            if (Array.isArray(c)) append(node, c);
            else node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
        });
        return node;
    }

    /* setAttribute for every key except on* (event listeners). */
    function setAttrs(node, attrs) {
        Object.keys(attrs || {}).forEach(function (k) {
            var v = attrs[k];
            if (v == null) return;
            if (k.slice(0, 2) === 'on') node.addEventListener(k.slice(2), v);
            else node.setAttribute(k, String(v));
        });
        return node;
    }

    /* h('td', {class: 'x'}, 'text', node, ...) builds an HTML element. */
    function h(tag, attrs) {
        var node = setAttrs(document.createElement(tag), attrs);
        return append(node, Array.prototype.slice.call(arguments, 2));
    }

    /* The same for SVG elements. */
    function s(tag, attrs) {
        var node = setAttrs(document.createElementNS(SVGNS, tag), attrs);
        return append(node, Array.prototype.slice.call(arguments, 2));
    }

    function isNum(v) { return typeof v === 'number' && isFinite(v); }
    function arr(v) { return Array.isArray(v) ? v : []; }
    function isObj(v) { return v != null && typeof v === 'object' && !Array.isArray(v); }
    function obj(v) { return isObj(v) ? v : {}; }
    function str(v) { return v == null ? '' : String(v); }
    function num(v, digits) { return isNum(v) ? v.toFixed(digits == null ? 3 : digits) : '–'; }
    function int(v) { return isNum(v) ? String(Math.round(v)) : '–'; }
    function pm(mean, ci, digits) {
        if (!isNum(mean)) return 'not evaluated';
        return isNum(ci) ? num(mean, digits) + ' ± ' + num(ci, digits) : num(mean, digits);
    }
    function signed(v, digits) { return isNum(v) && v > 0 ? '+' + num(v, digits) : num(v, digits); }

    function na(why) { return h('p', {class: 'na'}, 'not available: ' + why); }

    function table(cls, headers, rows) {
        return h('table', {class: cls},
            h('thead', null, h('tr', null, headers.map(function (x) { return h('th', null, x); }))),
            h('tbody', null, rows.map(function (r) {
                return h('tr', null, r.map(function (c) {
                    return c instanceof Node && c.nodeName === 'TD' ? c : h('td', null, c);
                }));
            })));
    }

    /* Viridis, five stops, linearly interpolated: t in [0, 1]. */
    function viridis(t) {
        var stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
        t = Math.max(0, Math.min(1, isNum(t) ? t : 0)) * (stops.length - 1);
        var i = Math.min(stops.length - 2, Math.floor(t)), f = t - i, a = stops[i], b = stops[i + 1];
        return 'rgb(' + [0, 1, 2].map(function (k) { return Math.round(a[k] + f * (b[k] - a[k])); })
            .join(',') + ')';
    }

    function extent(values) {
        var v = values.filter(isNum);
        if (!v.length) return null;
        var lo = Math.min.apply(null, v), hi = Math.max.apply(null, v);
        return {lo: lo, hi: hi, span: hi - lo || 1};
    }

    /* ---- the data ---- */

    var D = {}, runs = [];

    function sideName(side) { return str(arr(D.side_names)[side - 1]) || 'side ' + side; }
    function runColour(k) { return RUN_COLOURS[k % RUN_COLOURS.length]; }
    function policiesOf(run) { return arr(run.policies).filter(isObj); }

    function findPolicy(run, id) {
        var list = policiesOf(run);
        for (var i = 0; i < list.length; i++) if (list[i].id === id) return list[i];
        return null;
    }

    function isBaseline(p) { return p.status === 'baseline' || p.origin === 'baseline'; }
    function isFailed(p) { return p.status === 'failed' || p.status === 'rejected'; }

    /* ---- page structure ---- */

    var app;

    function addSection(id, title) {
        var sec = h('section', {id: id}, h('h2', null, title));
        app.appendChild(sec);
        return sec;
    }

    /* Runs one section's drawing; an exception becomes a visible line. */
    function guarded(name, draw) {
        try {
            draw();
        } catch (e) {
            app.appendChild(h('p', {class: 'na error'},
                'not available: the ' + name + ' section failed to draw (' + str(e && e.message) + ')'));
            console.error('fmsp report: ' + name + ': ' + str(e && e.stack));
        }
    }

    /* ---- header: title, notes, the runs ---- */

    function drawHeader() {
        var head = h('header', {id: 'top'}, h('h1', null, str(D.title) || 'fmsp report'));
        app.appendChild(head);
        head.appendChild(h('p', {class: 'meta'}, 'domain: ' + (str(D.domain) || 'unknown') +
            ' · sides: ' + sideName(1) + ' and ' + sideName(2) +
            (D.fmsp_report !== 1 ? ' · format version ' + str(D.fmsp_report) + ' (this page reads 1)' : '')));
        var notes = arr(D.notes);
        if (notes.length)
            head.appendChild(h('ul', {class: 'notes'}, notes.map(function (n) { return h('li', null, str(n)); })));
        if (!runs.length) {
            head.appendChild(na('the report holds no runs'));
            return;
        }
        head.appendChild(table('runs', ['run', 'algorithm', 'operator', 'seed', 'iterations', 'status',
            'a policy\'s quality is'], runs.map(function (r) {
            return [h('span', {title: str(r.path)}, str(r.name)), str(r.algo), str(r.operator),
                int(r.seed), int(r.iterations_done) + ' of ' + int(r.iterations), str(r.status),
                str(r.quality_def) || 'not stated'];
        })));
    }

    /* ---- verdicts: best found against best baseline ---- */

    function drawVerdicts() {
        var sec = addSection('verdict', 'Verdict: best found against best human-designed');
        runs.forEach(function (r) {
            var list = arr(r.verdict).filter(isObj);
            if (!list.length) {
                sec.appendChild(na('run ' + str(r.name) + ' has no verdict stored'));
                return;
            }
            list.forEach(function (v) {
                var best = obj(v.best_found), base = obj(v.best_baseline);
                var result = ['beat', 'tie', 'lose'].indexOf(v.result) >= 0 ? v.result : 'unknown';
                var word = {beat: 'beats', tie: 'ties with', lose: 'loses to', unknown: 'against'}[result];
                sec.appendChild(h('div', {class: 'verdict ' + result},
                    h('p', {class: 'verdict-line'},
                        h('strong', null, str(r.name) + ' · ' + sideName(v.side) + ': '),
                        h('span', {class: 'result'}, result.toUpperCase()), ' — best found ',
                        h('b', null, str(best.name) || '?'), ' ' + pm(best.mean, best.ci) + ' ' + word +
                        ' best baseline ', h('b', null, str(base.name) || '?'), ' ' + pm(base.mean, base.ci) +
                        '; margin ' + signed(v.margin) + (isNum(v.margin_ci) ? ' ± ' + num(v.margin_ci) : '')),
                    h('p', {class: 'small'}, 'pool: ' + (str(v.pool) || 'not stated') + ' (' + int(v.opponents) +
                        ' opponents, ' + int(v.episodes) + ' episodes per pair); test: ' +
                        (str(v.test) || 'not stated'))));
            });
        });
    }

    /* ---- curves: quality and QD-score over iterations (uPlot) ---- */

    /* One uPlot line chart; series are {label, points: {iteration: value}, colour, dash}. */
    function lineChart(title, yLabel, series) {
        var box = h('div', {class: 'chart'});
        if (typeof uPlot !== 'function') return append(box, [h('h3', null, title), na('uPlot did not load')]);
        var xs = {};
        series.forEach(function (sr) { Object.keys(sr.points).forEach(function (x) { xs[x] = true; }); });
        var xv = Object.keys(xs).map(Number).sort(function (a, b) { return a - b; });
        var data = [xv].concat(series.map(function (sr) {
            return xv.map(function (x) { return isNum(sr.points[x]) ? sr.points[x] : null; });
        }));
        var opts = {
            title: title, width: 540, height: 240, scales: {x: {time: false}},
            series: [{label: 'iteration'}].concat(series.map(function (sr) {
                return {label: sr.label, stroke: sr.colour, width: 2, dash: sr.dash, spanGaps: true,
                    points: {show: xv.length < 30}};
            })),
            axes: [{label: 'iteration', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]}, {label: yLabel}]
        };
        new uPlot(opts, data, box);
        return box;
    }

    function curvePoints(run, side, key) {
        var out = {};
        arr(run.curves).filter(isObj).forEach(function (c) {
            if (c.side === side && isNum(c.iteration)) out[c.iteration] = c[key];
        });
        return out;
    }

    function drawCurves() {
        var sec = addSection('curves', 'Quality and QD-score over iterations');
        var withCurves = runs.filter(function (r) { return arr(r.curves).length > 0; });
        runs.forEach(function (r) {
            if (!arr(r.curves).length)
                sec.appendChild(na('run ' + str(r.name) + ' stored no per-iteration snapshots (made before they were kept)'));
        });
        if (!withCurves.length) return;
        var row = h('div', {class: 'charts'});
        sec.appendChild(row);
        [1, 2].forEach(function (side) {
            var q = [], qd = [];
            runs.forEach(function (r, k) {
                if (!arr(r.curves).length) return;
                q.push({label: str(r.name) + ' best', points: curvePoints(r, side, 'best'), colour: runColour(k)});
                q.push({label: str(r.name) + ' mean', points: curvePoints(r, side, 'mean'), colour: runColour(k),
                    dash: [6, 4]});
                qd.push({label: str(r.name), points: curvePoints(r, side, 'qd_score'), colour: runColour(k)});
            });
            row.appendChild(lineChart(sideName(side) + ': archive quality (best, mean)', 'quality', q));
            row.appendChild(lineChart(sideName(side) + ': QD-score (shared map)', 'QD-score', qd));
        });
    }

    /* ---- detail panel: one policy ---- */

    /* Line diff by longest common subsequence after trimming the common head
     * and tail: a list of [op, line] with op ' ', '-' (only in a) or '+'. */
    function lineDiff(a, b) {
        var pre = 0, suf = 0, out = [], i, j;
        while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
        while (suf < a.length - pre && suf < b.length - pre &&
               a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
        var A = a.slice(pre, a.length - suf), B = b.slice(pre, b.length - suf), n = A.length, m = B.length;
        for (i = 0; i < pre; i++) out.push([' ', a[i]]);
        if (n * m > MAX_DIFF_CELLS) {
            A.forEach(function (l) { out.push(['-', l]); });
            B.forEach(function (l) { out.push(['+', l]); });
        } else {
            var w = m + 1, L = new Uint32Array((n + 1) * w); /* L[i*w+j]: LCS of A[i..], B[j..] */
            for (i = n - 1; i >= 0; i--)
                for (j = m - 1; j >= 0; j--)
                    L[i * w + j] = A[i] === B[j] ? L[(i + 1) * w + j + 1] + 1
                        : Math.max(L[(i + 1) * w + j], L[i * w + j + 1]);
            i = 0; j = 0;
            while (i < n && j < m) {
                if (A[i] === B[j]) { out.push([' ', A[i]]); i++; j++; }
                else if (L[(i + 1) * w + j] >= L[i * w + j + 1]) out.push(['-', A[i++]]);
                else out.push(['+', B[j++]]);
            }
            for (; i < n; i++) out.push(['-', A[i]]);
            for (; j < m; j++) out.push(['+', B[j]]);
        }
        for (i = a.length - suf; i < a.length; i++) out.push([' ', a[i]]);
        return out;
    }

    function diffView(oldText, newText) {
        var cls = {' ': 'same', '-': 'del', '+': 'add'};
        var lines = function (t) { return str(t).replace(/\n$/, '').split('\n'); };
        return h('pre', {class: 'diff'}, lineDiff(lines(oldText), lines(newText))
            .map(function (d) { return h('span', {class: cls[d[0]]}, d[0] + ' ' + d[1] + '\n'); }));
    }

    function hideDetail() {
        var panel = document.getElementById('detail');
        if (panel) panel.hidden = true;
    }

    function showDetail(run, p) {
        var panel = document.getElementById('detail');
        panel.textContent = '';
        var parents = arr(p.parents).map(function (id) { return findPolicy(run, id); });
        append(panel, [
            h('button', {class: 'close', title: 'close', onclick: hideDetail}, '×'),
            h('h2', null, str(p.name) || 'policy ' + str(p.id)),
            h('p', {class: 'meta'}, 'run ' + str(run.name) + ' · ' + sideName(p.side) + ' · iteration ' +
                int(p.iteration) + ' · origin ' + (str(p.origin) || '?') + ' · id ' + int(p.id) +
                (p.in_archive ? ' · in the archive' : '')),
            h('p', null, 'status: ' + (str(p.status) || '?') + (str(p.reason) ? ' — ' + str(p.reason) : '')),
            h('p', null, 'quality: ' + pm(p.quality, p.ci) +
                (isNum(p.ci) ? ' (95% interval half-width)' : '') +
                (isNum(p.opponents) && p.opponents > 0 ? ' over ' + int(p.opponents) + ' opponents' : ''), h('br'),
                h('span', {class: 'small'}, 'measured as: ' + (str(run.quality_def) || 'not stated'))),
            h('p', null, 'parents: ', parents.length ? parents.map(function (q, k) {
                return q ? h('button', {class: 'link', onclick: function () { showDetail(run, q); }}, str(q.name))
                    : 'id ' + str(arr(p.parents)[k]) + ' (not in this run) ';
            }) : 'none'),
            h('h3', null, 'Scores'),
            arr(p.scores).length ? table('scores', ['opponent', 'score', 'episodes'],
                arr(p.scores).filter(isObj).map(function (sc) {
                    return [str(sc.opponent) || 'id ' + str(sc.opponent_id), pm(sc.score, sc.ci), int(sc.episodes)];
                })) : na('no evaluation of this policy is stored'),
            h('h3', null, 'Source'),
            str(p.source) ? h('pre', {class: 'source'}, str(p.source)) : na('no source stored'),
            h('h3', null, 'Change from its first parent' + (parents[0] ? ' (' + str(parents[0].name) + ')' : '')),
            !parents[0] ? na('no parent in this run') : !str(parents[0].source) || !str(p.source)
                ? na('a source is missing') : diffView(parents[0].source, p.source),
            h('h3', null, 'Prompt that produced it'),
            p.prompt == null ? na('not written from a prompt (baseline or seed)')
                : str(obj(run.prompts)[p.prompt]) ? h('pre', {class: 'prompt'}, str(obj(run.prompts)[p.prompt]))
                    : na('prompt ' + str(p.prompt) + ' is not stored')
        ]);
        panel.hidden = false;
        panel.scrollTop = 0;
    }

    /* #policy=RUN/ID opens that policy's panel on load (links to a policy). */
    function openFromHash() {
        var m = /^#policy=(.+)\/(-?\d+)$/.exec(location.hash);
        if (!m) return;
        var name = decodeURIComponent(m[1]);
        runs.forEach(function (r) {
            var p = str(r.name) === name ? findPolicy(r, Number(m[2])) : null;
            if (p) showDetail(r, p);
        });
    }

    /* ---- archive maps: the shared PCA map of each side (SVG) ---- */

    function drawMaps() {
        var sec = addSection('maps', 'Archive maps');
        sec.appendChild(h('p', {class: 'small'}, 'Each point is a policy at its place on its side\'s shared map ' +
            '(first two principal components), coloured by quality. Click a point for its details.'));
        var row = h('div', {class: 'charts'});
        sec.appendChild(row);
        [1, 2].forEach(function (side) { row.appendChild(mapOf(side)); });
    }

    function mapOf(side) {
        var box = h('div', {class: 'map-box'}, h('h3', null, sideName(side)));
        var pts = [], missing = 0;
        runs.forEach(function (r) {
            policiesOf(r).forEach(function (p) {
                if (p.side !== side) return;
                if (isNum(p.x) && isNum(p.y)) pts.push({run: r, p: p});
                else missing++;
            });
        });
        if (!pts.length) return append(box, [na('no policy of this side has a place on the map (no embedding)')]);
        var W = 540, H = 400, M = 40;
        var ex = extent(pts.map(function (t) { return t.p.x; })), ey = extent(pts.map(function (t) { return t.p.y; }));
        var eq = extent(pts.map(function (t) { return t.p.quality; }));
        function X(x) { return M + (x - ex.lo) / ex.span * (W - 2 * M); }
        function Y(y) { return H - M - (y - ey.lo) / ey.span * (H - 2 * M); }
        var explained = arr(arr(obj(D.qd).explained)[side - 1]);
        var pc = function (k) { return 'PC' + (k + 1) + (isNum(explained[k]) ? ' (' + Math.round(explained[k] * 100) + '%)' : ''); };
        var svg = s('svg', {class: 'map', 'data-side': side, width: W, height: H + 40, viewBox: '0 0 ' + W + ' ' + (H + 40)},
            s('rect', {x: M - 10, y: M - 10, width: W - 2 * M + 20, height: H - 2 * M + 20, class: 'frame'}),
            s('text', {x: W / 2, y: H - 8, 'text-anchor': 'middle'}, pc(0)),
            s('text', {x: 12, y: H / 2, transform: 'rotate(-90 12 ' + H / 2 + ')', 'text-anchor': 'middle'}, pc(1)));
        /* archive members last, so they are drawn on top */
        pts.sort(function (a, b) { return (a.p.in_archive ? 1 : 0) - (b.p.in_archive ? 1 : 0); });
        pts.forEach(function (t) {
            var p = t.p, kind = p.in_archive ? 'archive' : isBaseline(p) ? 'baseline' : 'other';
            svg.appendChild(s('circle', {class: 'pt ' + kind, 'data-run': str(t.run.name), 'data-id': str(p.id),
                cx: X(p.x).toFixed(1), cy: Y(p.y).toFixed(1), r: p.in_archive ? 6 : 4.5,
                fill: eq && isNum(p.quality) ? viridis((p.quality - eq.lo) / eq.span) : '#bbb',
                onclick: function () { showDetail(t.run, p); }},
            s('title', null, str(p.name) + ' (' + str(t.run.name) + ')\nquality ' + pm(p.quality, p.ci) +
                '\n' + kind)));
        });
        /* legend: quality colour scale and the three kinds of point */
        var lg = s('g', {transform: 'translate(' + M + ',' + (H + 10) + ')'});
        for (var i = 0; i < 10; i++) lg.appendChild(s('rect', {x: i * 12, y: 0, width: 12, height: 10, fill: viridis(i / 9)}));
        append(lg, [s('text', {x: 0, y: 24}, eq ? num(eq.lo, 2) : 'no quality'),
            s('text', {x: 120, y: 24, 'text-anchor': 'end'}, eq ? num(eq.hi, 2) : ''),
            s('circle', {cx: 170, cy: 5, r: 6, class: 'key archive', fill: '#888'}), s('text', {x: 180, y: 9}, 'archive member'),
            s('circle', {cx: 300, cy: 5, r: 4.5, class: 'key other', fill: '#888'}), s('text', {x: 310, y: 9}, 'other candidate'),
            s('circle', {cx: 420, cy: 5, r: 4.5, class: 'key baseline', fill: '#888'}), s('text', {x: 430, y: 9}, 'baseline')]);
        svg.appendChild(lg);
        box.appendChild(svg);
        if (missing) box.appendChild(h('p', {class: 'small'}, missing + ' other polic' + (missing > 1 ? 'ies have' : 'y has') +
            ' no place on the map (failed, or never embedded).'));
        return box;
    }

    /* ---- lineage: iterations on x, edges to parents (SVG) ---- */

    function drawLineage() {
        var sec = addSection('lineage', 'Lineage');
        if (!runs.length) return sec.appendChild(na('no runs'));
        runs.forEach(function (r) {
            [1, 2].forEach(function (side) {
                var list = policiesOf(r).filter(function (p) { return p.side === side; });
                sec.appendChild(h('h3', null, str(r.name) + ' · ' + sideName(side)));
                sec.appendChild(list.length ? lineageOf(r, side, list) : na('no policies of this side'));
            });
        });
    }

    function lineageOf(run, side, list) {
        var its = extent(list.map(function (p) { return p.iteration; })) || {lo: 0, hi: 0, span: 1};
        var stack = {}, pos = {}, W = 1100, M = 24, ROW = 20;
        list.forEach(function (p) {
            var it = isNum(p.iteration) ? p.iteration : its.lo;
            var k = stack[it] = (stack[it] || 0) + 1;
            pos[p.id] = {x: M + (it - its.lo) / its.span * (W - 2 * M), y: M + (k - 1) * ROW};
        });
        var depth = Math.max.apply(null, Object.keys(stack).map(function (k) { return stack[k]; }));
        var roomy = (W - 2 * M) / its.span >= 120; /* room for names beside the nodes */
        var H = 2 * M + (depth - 1) * ROW + 16;
        var svg = s('svg', {class: 'lineage', 'data-run': str(run.name), 'data-side': side, width: W, height: H,
            viewBox: '0 0 ' + W + ' ' + H});
        list.forEach(function (p) {
            arr(p.parents).forEach(function (id) {
                var a = pos[id], b = pos[p.id];
                if (a && b) svg.appendChild(s('line', {class: 'edge', x1: a.x, y1: a.y, x2: b.x, y2: b.y}));
            });
        });
        list.forEach(function (p) {
            var kind = p.in_archive ? 'archive' : isBaseline(p) ? 'baseline' : isFailed(p) ? 'failed' : 'other';
            svg.appendChild(s('circle', {class: 'node ' + kind, 'data-id': str(p.id), cx: pos[p.id].x, cy: pos[p.id].y,
                r: p.in_archive ? 6 : 4.5, onclick: function () { showDetail(run, p); }},
            s('title', null, str(p.name) + '\niteration ' + int(p.iteration) + ' · ' + str(p.status) +
                '\nquality ' + pm(p.quality, p.ci))));
            var right = pos[p.id].x > W - 160; /* names near the right edge go on the node's left */
            if (roomy) svg.appendChild(s('text', {x: pos[p.id].x + (right ? -9 : 9), y: pos[p.id].y + 4,
                'text-anchor': right ? 'end' : 'start'}, str(p.name)));
        });
        [its.lo, its.hi].forEach(function (it, k) {
            svg.appendChild(s('text', {x: M + k * (W - 2 * M), y: H - 4, 'text-anchor': k ? 'end' : 'start'},
                'iteration ' + int(it)));
        });
        return svg;
    }

    /* ---- cost, tokens, failures ---- */

    function drawCost() {
        var sec = addSection('cost', 'Model calls, tokens and cost');
        var series = [], totals = [];
        runs.forEach(function (r, k) {
            var cost = arr(r.cost).filter(isObj), t = {calls: 0, failed: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0};
            if (!cost.length) {
                sec.appendChild(na('run ' + str(r.name) + ' stored no per-iteration cost'));
                return;
            }
            var pts = {}, model = false;
            cost.forEach(function (c) {
                Object.keys(t).forEach(function (key) { if (isNum(c[key])) t[key] += c[key]; });
                model = model || isNum(c.prompt_tokens) || isNum(c.cost_usd);
                if (isNum(c.iteration)) pts[c.iteration] = (c.prompt_tokens || 0) + (c.completion_tokens || 0);
            });
            /* the builtin operator is not a model: no tokens, no cost (as fmsp show says) */
            if (!model) {
                totals.push([str(r.name), int(t.calls), int(t.failed), '–', '–', 'not a model: no tokens, no cost']);
                return;
            }
            series.push({label: str(r.name), points: pts, colour: runColour(k)});
            totals.push([str(r.name), int(t.calls), int(t.failed), int(t.prompt_tokens), int(t.completion_tokens),
                '$' + num(t.cost_usd, 4)]);
        });
        if (series.length)
            sec.appendChild(h('div', {class: 'charts'}, lineChart('tokens per iteration (prompt + completion)', 'tokens', series)));
        if (totals.length) sec.appendChild(table('totals', ['run', 'calls', 'failed calls', 'prompt tokens', 'completion tokens', 'cost'], totals));
    }

    function drawFailures() {
        var sec = addSection('failures', 'Failed and rejected candidates');
        runs.forEach(function (r) {
            var list = arr(r.failures).filter(isObj);
            sec.appendChild(h('h3', null, str(r.name)));
            if (!list.length) return sec.appendChild(h('p', null, 'none: every candidate compiled, ran and was kept'));
            sec.appendChild(table('failures', ['kind', 'count', 'examples'], list.map(function (f) {
                return [str(f.kind), int(f.count), h('td', null, arr(f.examples).filter(isObj).map(function (e) {
                    return h('div', {class: 'example'}, h('b', null, str(e.name) || 'id ' + str(e.id)), ': ',
                        h('code', null, str(e.reason)));
                }))];
            })));
        });
    }

    /* ---- QD table ---- */

    function drawQD() {
        var sec = addSection('qd', 'QD-score and coverage on one shared map');
        var qd = obj(D.qd), sides = arr(qd.sides).filter(isObj);
        if (!sides.length) return sec.appendChild(na('no QD figures in this report'));
        sec.appendChild(h('p', {class: 'small'}, 'grid ' + int(qd.grid) + '×' + int(qd.grid) + ', offset ' +
            num(qd.offset, 2) + ', population: ' + (str(qd.population) || 'not stated') +
            (str(qd.quality) ? ', quality: ' + str(qd.quality) : '') + '; ' +
            arr(qd.explained).map(function (e, k) {
                return sideName(k + 1) + ' map explains ' + arr(e).map(function (v) {
                    return isNum(v) ? Math.round(v * 100) + '%' : '?';
                }).join(' + ') + ' of the variance';
            }).join('; ')));
        var rows = [];
        sides.forEach(function (sd) {
            arr(sd.runs).filter(isObj).forEach(function (r) {
                rows.push([sideName(sd.side), str(r.run), num(r.qd_score, 2), int(r.coverage), int(r.policies)]);
            });
        });
        sec.appendChild(table('qd', ['side', 'run', 'QD-score', 'coverage (cells)', 'policies placed'], rows));
    }

    /* ---- cross-play ---- */

    function drawCrossplay() {
        var sec = addSection('crossplay', 'Cross-play');
        var cp = D.crossplay;
        if (!isObj(cp)) return sec.appendChild(na('no cross-play in this report (it compares several sources)'));
        var rows = arr(cp.rows).filter(isObj), cols = arr(cp.cols).filter(isObj);
        var label = function (e) { return str(e.name) + ' (' + (e.baseline ? 'baseline' : str(e.source)) + ')'; };
        var who = function (side, i) { var e = (side === 1 ? rows : cols)[i]; return e ? label(e) : '#' + str(i); };
        sec.appendChild(h('p', {class: 'small'}, 'Mean score of the ' + sideName(1) + ' (row) against the ' +
            sideName(2) + ' (column), ' + int(cp.episodes) + ' episodes per pair; hover a cell for its interval.'));
        var all = [];
        arr(cp.score).forEach(function (r) { all = all.concat(arr(r)); });
        var ex = extent(all);
        if (!rows.length || !cols.length) sec.appendChild(na('the cross-play table is empty'));
        else sec.appendChild(h('table', {class: 'heatmap'},
            h('thead', null, h('tr', null, h('th', null, sideName(1) + ' \\ ' + sideName(2)),
                cols.map(function (c) { return h('th', {title: label(c)}, str(c.name)); }))),
            h('tbody', null, rows.map(function (row, i) {
                return h('tr', null, h('th', {title: label(row)}, label(row)), cols.map(function (col, j) {
                    var v = arr(arr(cp.score)[i])[j], ci = arr(arr(cp.ci)[i])[j];
                    if (!isNum(v)) return h('td', {class: 'unplayed', title: 'not played'}, '–');
                    var t = ex ? (v - ex.lo) / ex.span : 0.5;
                    return h('td', {style: 'background:' + viridis(t) + ';color:' + (t > 0.6 ? '#000' : '#fff'),
                        title: label(row) + ' vs ' + label(col) + ': ' + pm(v, ci)}, num(v, 2));
                }));
            }))));
        var elo = arr(cp.elo).filter(isObj);
        sec.appendChild(h('h3', null, 'Elo (maximum likelihood, 95% interval)'));
        sec.appendChild(elo.length ? table('elo', ['side', 'policy', 'Elo', 'interval'], elo.map(function (e) {
            return [sideName(e.side), who(e.side, e.index), num(e.elo, 0), '[' + num(e.lo, 0) + ', ' + num(e.hi, 0) + ']'];
        })) : na('no Elo ratings stored'));
        var nash = arr(cp.nash).filter(isObj);
        sec.appendChild(h('h3', null, 'Nash mixture (maximum entropy) and payoff against it'));
        sec.appendChild(nash.length ? table('nash', ['side', 'policy', 'probability', 'payoff'], nash.map(function (e) {
            return [sideName(e.side), who(e.side, e.index), num(e.prob), num(e.payoff)];
        })) : na('no Nash mixture stored'));
        var expl = arr(cp.exploitability).filter(isObj);
        sec.appendChild(h('h3', null, 'Exploitability per source'));
        sec.appendChild(expl.length ? table('exploitability', ['source', 'side', 'exploitability'], expl.map(function (e) {
            return [str(e.source), sideName(e.side), num(e.value)];
        })) : na('no exploitability stored'));
    }

    /* ---- Car Tag replay (canvas) ---- */

    function validFrames(rep) {
        return arr(rep.frames).filter(function (f) {
            return Array.isArray(f) && f.length >= 5 && f.slice(0, 5).every(isNum);
        });
    }

    /* The world square shown: the arena when walled, else the trajectory's box. */
    function replayView(rep, frames) {
        var p = obj(rep.params), margin = (isNum(p.R) ? p.R : 0) + (isNum(p.l) ? p.l : 0) + 0.5;
        if (p.walls && isNum(p.H) && p.H > 0) return {cx: 0, cy: 0, half: p.H * 1.1};
        var xs = [], ys = [];
        frames.forEach(function (f) { xs.push(f[0], f[3]); ys.push(f[1], f[4]); });
        var ex = extent(xs), ey = extent(ys);
        return {cx: (ex.lo + ex.hi) / 2, cy: (ey.lo + ey.hi) / 2,
            half: Math.max(ex.hi - ex.lo, ey.hi - ey.lo) / 2 + margin};
    }

    function drawReplayFrame(g, size, st) {
        var p = obj(st.rep.params), frames = st.frames, k = st.frame, f = frames[k], v = st.view;
        var scale = size / 2 / v.half;
        var X = function (x) { return size / 2 + (x - v.cx) * scale; };
        var Y = function (y) { return size / 2 - (y - v.cy) * scale; };
        g.fillStyle = '#fff';
        g.fillRect(0, 0, size, size);
        if (p.walls && isNum(p.H)) {
            g.strokeStyle = '#333'; g.lineWidth = 2;
            g.strokeRect(X(-p.H), Y(p.H), 2 * p.H * scale, 2 * p.H * scale);
        }
        /* fading trails: the last 80 steps, older segments lighter */
        [[0, 1, '31,119,180'], [3, 4, '214,39,40']].forEach(function (c) {
            for (var i = Math.max(1, k - 80); i <= k; i++) {
                g.strokeStyle = 'rgba(' + c[2] + ',' + (0.1 + 0.9 * (1 - (k - i) / 80)).toFixed(2) + ')';
                g.lineWidth = 2;
                g.beginPath(); g.moveTo(X(frames[i - 1][c[0]]), Y(frames[i - 1][c[1]]));
                g.lineTo(X(frames[i][c[0]]), Y(frames[i][c[1]])); g.stroke();
            }
        });
        var xp = f[0], yp = f[1], th = f[2], xe = f[3], ye = f[4];
        /* minimum turning circles, tangent to the heading at the car */
        if (isNum(p.R) && p.R > 0) {
            g.strokeStyle = 'rgba(31,119,180,0.45)'; g.setLineDash([4, 4]); g.lineWidth = 1;
            [1, -1].forEach(function (sgn) {
                g.beginPath();
                g.arc(X(xp - sgn * p.R * Math.sin(th)), Y(yp + sgn * p.R * Math.cos(th)), p.R * scale, 0, 2 * Math.PI);
                g.stroke();
            });
            g.setLineDash([]);
        }
        if (isNum(p.l) && p.l > 0) {
            g.strokeStyle = '#1f77b4'; g.lineWidth = 1.5;
            g.beginPath(); g.arc(X(xp), Y(yp), p.l * scale, 0, 2 * Math.PI); g.stroke();
        }
        /* the car: a triangle pointing along theta (y is flipped on screen) */
        var L = Math.max(8, 0.35 * scale), c = Math.cos(th), sn = Math.sin(th);
        g.fillStyle = '#1f77b4';
        g.beginPath();
        g.moveTo(X(xp) + L * c, Y(yp) - L * sn);
        g.lineTo(X(xp) - 0.6 * L * c - 0.5 * L * sn, Y(yp) + 0.6 * L * sn - 0.5 * L * c);
        g.lineTo(X(xp) - 0.6 * L * c + 0.5 * L * sn, Y(yp) + 0.6 * L * sn + 0.5 * L * c);
        g.closePath(); g.fill();
        g.fillStyle = '#d62728';
        g.beginPath(); g.arc(X(xe), Y(ye), 5, 0, 2 * Math.PI); g.fill();
        var dt = obj(st.rep.params).dt;
        g.fillStyle = '#000'; g.font = '14px sans-serif';
        g.fillText('step ' + k + ' / ' + (frames.length - 1) + (isNum(dt) ? '   t = ' + (k * dt).toFixed(2) : ''), 10, 20);
        if (st.rep.captured && k === frames.length - 1) {
            g.strokeStyle = '#000'; g.lineWidth = 3;
            g.beginPath(); g.moveTo(X(xe) - 10, Y(ye) - 10); g.lineTo(X(xe) + 10, Y(ye) + 10);
            g.moveTo(X(xe) + 10, Y(ye) - 10); g.lineTo(X(xe) - 10, Y(ye) + 10); g.stroke();
            g.font = 'bold 22px sans-serif'; g.fillText('captured', 10, 46);
        }
    }

    function drawReplays() {
        if (D.domain !== 'cartag') return;
        var sec = addSection('replays', 'Replay');
        var reps = arr(D.replays).filter(function (r) { return isObj(r) && validFrames(r).length > 0; });
        if (!reps.length) return sec.appendChild(na('no traced episodes in this report'));
        var SIZE = 560, TICK_MS = 40, HOLD_TICKS = 25;
        var select = h('select', {id: 'replay-select'}, reps.map(function (r, i) {
            return h('option', {value: i}, str(r.pursuer) + ' vs ' + str(r.evader) + ', episode ' + int(r.episode));
        }));
        var canvas = h('canvas', {id: 'replay', width: SIZE, height: SIZE});
        var button = h('button', {id: 'replay-play'}, 'pause');
        var slider = h('input', {id: 'replay-time', type: 'range', min: 0, max: 0, value: 0});
        var info = h('p', {class: 'small'});
        append(sec, [h('p', null, select, ' ', button, ' ', slider), info, canvas,
            h('p', {class: 'small'}, 'Blue: the car (' + sideName(1) + ') with its capture circle and its minimum ' +
                'turning circles; red: the ' + sideName(2) + '.')]);
        var g = canvas.getContext('2d');
        if (!g) return sec.appendChild(na('this browser has no 2D canvas'));
        var st = {playing: true, hold: 0};
        function choose(i) {
            st.rep = reps[i]; st.frames = validFrames(st.rep); st.view = replayView(st.rep, st.frames); st.frame = 0;
            slider.max = String(st.frames.length - 1);
            info.textContent = (st.rep.captured ? 'captured' : 'not captured') + ' after ' + int(st.rep.steps) +
                ' steps; ' + sideName(1) + ' score ' + num(st.rep.pursuer_score) +
                (isNum(st.rep.evader_score) ? ', ' + sideName(2) + ' score ' + num(st.rep.evader_score) : '');
            show();
        }
        function show() { slider.value = String(st.frame); drawReplayFrame(g, SIZE, st); }
        select.addEventListener('change', function () { choose(Number(select.value)); });
        slider.addEventListener('input', function () { st.frame = Number(slider.value); show(); });
        button.addEventListener('click', function () {
            st.playing = !st.playing;
            button.textContent = st.playing ? 'pause' : 'play';
        });
        setInterval(function () {
            if (!st.playing) return;
            if (st.frame < st.frames.length - 1) st.frame++;
            else if (++st.hold > HOLD_TICKS) { st.hold = 0; st.frame = 0; } /* loop after a pause */
            show();
        }, TICK_MS);
        choose(0);
    }

    /* ---- Gandalf: levels and transcripts ---- */

    function drawGandalf() {
        var withG = runs.filter(function (r) { return isObj(r.gandalf); });
        if (D.domain !== 'gandalf' && !withG.length) return;
        var sec = addSection('gandalf', 'Gandalf levels');
        if (!withG.length) return sec.appendChild(na('no run stored Gandalf level results'));
        withG.forEach(function (r) {
            var gd = r.gandalf;
            sec.appendChild(h('h3', null, str(r.name)));
            var levels = arr(gd.levels).filter(isObj);
            var rate = function (v, ci) { return isNum(v) ? pm(v, ci, 2) : '–'; };
            sec.appendChild(levels.length ? table('gandalf-levels', ['level', 'its utility', 'broken by',
                'leak rate', 'patched by', 'leak rate after', 'utility after', 'level broken again by',
                'patch broken again by'], levels.map(function (l) {
                var broken = l.broken_by != null;
                return [str(l.level) + (str(l.name) ? ' (' + str(l.name) + ')' : ''), num(l.level_utility, 2),
                    broken ? str(l.broken_by) : 'not broken', rate(l.leak_rate, l.leak_ci),
                    !broken ? 'n/a' : l.patched_by != null ? str(l.patched_by)
                        : 'not patched' + (str(l.best_patch_try) ? ' (best try ' + str(l.best_patch_try) + ')' : ''),
                    rate(l.patched_leak_rate), num(l.utility, 2),
                    l.level_rebroken_by == null ? 'no' : str(l.level_rebroken_by),
                    l.patched_by == null ? 'n/a' : l.rebroken_by == null ? 'no'
                        : str(l.rebroken_by) + ' at ' + num(l.rebroken_rate, 2)];
            })) : na('no levels stored'));
            if (str(gd.table_text))
                sec.appendChild(h('details', {class: 'table-text'}, h('summary', null, 'the table as fmsp prints it'),
                    h('pre', null, str(gd.table_text))));
            var tr = arr(gd.transcripts).filter(isObj);
            sec.appendChild(h('h3', null, 'Transcripts'));
            if (!tr.length) sec.appendChild(na('no transcripts stored'));
            tr.forEach(function (t) {
                sec.appendChild(h('details', {class: 'transcript'},
                    h('summary', null, 'level ' + str(t.level) + ' · ' + str(t.kind) + ' · ' + str(t.policy)),
                    h('pre', null, str(t.text))));
            });
        });
    }

    /* ---- start ---- */

    function main() {
        app = document.getElementById('app');
        if (!app) return;
        var el = document.getElementById('fmsp-data');
        try {
            D = obj(JSON.parse(el ? el.textContent : ''));
        } catch (e) {
            app.appendChild(h('h1', null, 'fmsp report'));
            app.appendChild(na('the report\'s data could not be read (' + str(e.message) + ')'));
            return;
        }
        runs = arr(D.runs).filter(isObj);
        document.body.appendChild(h('aside', {id: 'detail', hidden: ''}));
        guarded('header', drawHeader);
        guarded('verdict', drawVerdicts);
        guarded('curves', drawCurves);
        guarded('replay', drawReplays);
        guarded('maps', drawMaps);
        guarded('lineage', drawLineage);
        guarded('QD', drawQD);
        guarded('cross-play', drawCrossplay);
        guarded('Gandalf', drawGandalf);
        guarded('cost', drawCost);
        guarded('failures', drawFailures);
        guarded('policy link', openFromHash);
        document.addEventListener('keydown', function (e) { if (e.key === 'Escape') hideDetail(); });
    }

    main();
})();
