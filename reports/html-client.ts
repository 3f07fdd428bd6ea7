// The script that runs inside report.html and draws its charts with Chart.js (inlined UMD build).
// Plain ES2017 in a string on purpose: it is not compiled or bundled, so what is written is what
// the browser runs. It reads the JSON from <script id="report-data"> and, for every canvas it
// draws (or marks as having no data), sets data-drawn="true" and data-points="<n>".

export const CHART_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent || '{}');
  var COLORS = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#475569', '#ea580c'];

  function mark(canvas, points) {
    canvas.setAttribute('data-drawn', 'true');
    canvas.setAttribute('data-points', String(points));
  }

  function note(canvas, message, cls) {
    var figure = canvas.closest('figure') || canvas.parentElement;
    var p = document.createElement('p');
    p.className = cls;
    p.textContent = message;
    figure.appendChild(p);
  }

  // Draws the message onto the canvas itself, so the chart area is never an empty box.
  function paintMessage(canvas, message) {
    var box = canvas.parentElement;
    var w = box.clientWidth || 600;
    var h = box.clientHeight || 260;
    var dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    canvas.style.width = w + 'px';
    canvas.style.height = h + 'px';
    var ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = '#f1f5f9';
    ctx.fillRect(0, 0, w, h);
    ctx.fillStyle = '#475569';
    ctx.font = '16px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(message, w / 2, h / 2);
  }

  function noData(canvas, message) {
    paintMessage(canvas, message);
    note(canvas, message, 'no-data');
    mark(canvas, 0);
  }

  function countPoints(cfg) {
    var n = 0;
    (cfg.data.datasets || []).forEach(function (ds) { n += (ds.data || []).length; });
    return n;
  }

  var markPlugin = {
    id: 'chargebenchMark',
    afterRender: function (chart, args, options) { mark(chart.canvas, options.points || 0); }
  };

  function draw(id, build) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    var cfg;
    try {
      cfg = build();
    } catch (e) {
      cfg = null;
      note(canvas, 'Could not prepare this chart: ' + e.message, 'chart-error');
    }
    if (!cfg) {
      noData(canvas, canvas.getAttribute('data-empty-message') || 'No data');
      return;
    }
    if (typeof Chart === 'undefined') {
      noData(canvas, 'Chart library unavailable; see the tables below');
      return;
    }
    cfg.options = cfg.options || {};
    cfg.options.plugins = cfg.options.plugins || {};
    cfg.options.plugins.chargebenchMark = { points: countPoints(cfg) };
    cfg.plugins = (cfg.plugins || []).concat([markPlugin]);
    cfg.options.animation = false;
    cfg.options.responsive = true;
    cfg.options.maintainAspectRatio = false;
    try {
      new Chart(canvas, cfg);
    } catch (e) {
      canvas.setAttribute('data-drawn', 'error');
      note(canvas, 'Chart failed: ' + e.message, 'chart-error');
    }
  }

  function series(xs, ys, label, color, axis) {
    var points = [];
    for (var i = 0; i < xs.length; i++) {
      if (typeof ys[i] === 'number' && isFinite(ys[i])) points.push({ x: xs[i], y: ys[i] });
    }
    return {
      label: label, data: points, borderColor: color, backgroundColor: color,
      pointRadius: points.length > 60 ? 0 : 2, borderWidth: 1.5, tension: 0, yAxisID: axis || 'y'
    };
  }

  function timeAxis() {
    return { type: 'linear', title: { display: true, text: 'elapsed (s)' }, ticks: { maxTicksLimit: 12 } };
  }

  function valueAxis(title, position) {
    return { type: 'linear', beginAtZero: true, position: position || 'left', title: { display: true, text: title } };
  }

  var tl = data.timeline || { t: [] };
  var hasTimeline = tl.t && tl.t.length > 0;
  var common = { interaction: { mode: 'nearest', axis: 'x', intersect: false } };

  draw('chart-throughput', function () {
    if (!hasTimeline) return null;
    return {
      type: 'line',
      data: { datasets: [
        series(tl.t, tl.callsPerSec, 'calls/s', COLORS[0], 'y'),
        series(tl.t, tl.transactionsPerSec, 'transactions/s', COLORS[2], 'y1')
      ] },
      options: Object.assign({}, common, { scales: {
        x: timeAxis(), y: valueAxis('calls/s'),
        y1: Object.assign(valueAxis('transactions/s', 'right'), { grid: { drawOnChartArea: false } })
      } })
    };
  });

  draw('chart-fleet', function () {
    if (!hasTimeline) return null;
    return {
      type: 'line',
      data: { datasets: [
        series(tl.t, tl.chargersConnected, 'chargers connected', COLORS[4]),
        series(tl.t, tl.sessionsActive, 'sessions active', COLORS[3])
      ] },
      options: Object.assign({}, common, { scales: { x: timeAxis(), y: valueAxis('count') } })
    };
  });

  draw('chart-latency-time', function () {
    if (!hasTimeline) return null;
    return {
      type: 'line',
      data: { datasets: [
        series(tl.t, tl.p50, 'p50', COLORS[2]),
        series(tl.t, tl.p90, 'p90', COLORS[3]),
        series(tl.t, tl.p99, 'p99', COLORS[1])
      ] },
      options: Object.assign({}, common, { scales: { x: timeAxis(), y: valueAxis('latency (ms)') } })
    };
  });

  function percentileLabel(x) {
    var p = 100 * (1 - 1 / x);
    var s = p.toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
    return s + '%';
  }

  draw('chart-latency-distribution', function () {
    var dist = data.latencyDistribution || {};
    var actions = Object.keys(dist).filter(function (a) { return dist[a] && dist[a].length > 0; }).sort();
    if (actions.length === 0) return null;
    var datasets = actions.map(function (action, i) {
      var pts = dist[action]
        .filter(function (pv) { return pv[0] >= 0 && pv[0] < 100; })
        .map(function (pv) { return { x: 1 / (1 - pv[0] / 100), y: pv[1] }; });
      var color = COLORS[i % COLORS.length];
      return { label: action, data: pts, borderColor: color, backgroundColor: color, pointRadius: 1.5, borderWidth: 1.5, stepped: false };
    });
    return {
      type: 'line',
      data: { datasets: datasets },
      options: {
        interaction: { mode: 'nearest', intersect: false },
        scales: {
          x: {
            type: 'logarithmic', min: 1,
            title: { display: true, text: 'percentile' },
            ticks: {
              autoSkip: false,
              callback: function (value) {
                var l = Math.log10(value);
                return Math.abs(l - Math.round(l)) < 1e-9 ? percentileLabel(value) : null;
              }
            }
          },
          y: valueAxis('latency (ms)')
        },
        plugins: {
          tooltip: { callbacks: {
            title: function (items) { return items.length ? percentileLabel(items[0].parsed.x) : ''; },
            label: function (item) { return item.dataset.label + ': ' + item.parsed.y + ' ms'; }
          } }
        }
      }
    };
  });

  draw('chart-errors', function () {
    var errors = data.errorsByKind || {};
    var kinds = Object.keys(errors).filter(function (k) { return errors[k] > 0; });
    if (kinds.length === 0) return null;
    kinds.sort(function (a, b) { return errors[b] - errors[a] || (a < b ? -1 : 1); });
    return {
      type: 'bar',
      data: { labels: kinds, datasets: [{ label: 'errors', data: kinds.map(function (k) { return errors[k]; }), backgroundColor: COLORS[1] }] },
      options: { indexAxis: kinds.length > 8 ? 'y' : 'x', plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } }
    };
  });

  document.documentElement.setAttribute('data-charts-ready', 'true');
})();
`;
