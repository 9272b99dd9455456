// Draws every chart of a servingbench report from the JSON in
// #report-data with Chart.js. Text from the result files reaches the page
// only as chart labels, which Chart.js draws on canvases.
(function () {
  'use strict';
  var errors = document.getElementById('errors');
  window.addEventListener('error', function (e) {
    errors.textContent += 'error: ' + e.message + '\n';
  });
  var data = JSON.parse(document.getElementById('report-data').textContent);
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.size = 12;

  function xy(points) {
    return points.map(function (p) { return { x: p[0], y: p[1] }; });
  }
  function axis(title, extra) {
    var a = { type: 'linear', title: { display: true, text: title } };
    for (var k in extra) { a[k] = extra[k]; }
    return a;
  }

  var make = {
    cdf: function (spec) {
      return {
        type: 'line',
        data: {
          datasets: spec.series.map(function (s) {
            return { label: s.label, data: xy(s.points), borderColor: s.color, backgroundColor: s.color,
              pointRadius: 0, borderWidth: 2, stepped: 'after' };
          })
        },
        options: { parsing: false, scales: { x: axis(spec.x), y: axis(spec.y, { min: 0, max: 1 }) } }
      };
    },
    throughput: function (spec) {
      return {
        type: 'line',
        data: {
          datasets: spec.series.map(function (s) {
            return { label: s.label, data: xy(s.points), borderColor: s.color, backgroundColor: s.color,
              pointRadius: 0, borderWidth: 2, stepped: 'after', yAxisID: s.axis === 'y2' ? 'y2' : 'y' };
          })
        },
        options: {
          parsing: false,
          scales: {
            x: axis(spec.x),
            y: axis(spec.y, { min: 0, position: 'left' }),
            y2: axis(spec.y2, { min: 0, position: 'right', grid: { drawOnChartArea: false } })
          }
        }
      };
    },
    gauges: function (spec) {
      return {
        type: 'line',
        data: {
          datasets: spec.series.map(function (s) {
            return { label: s.label, data: xy(s.points), borderColor: s.color, backgroundColor: s.color,
              pointRadius: 0, borderWidth: 2 };
          })
        },
        options: { parsing: false, scales: { x: axis(spec.x), y: axis(spec.y) } }
      };
    },
    failures: function (spec) {
      var n = spec.series.length ? spec.series[0].points.length : 0;
      var labels = [];
      for (var i = 0; i < n; i++) { labels.push(String(i)); }
      return {
        type: 'bar',
        data: {
          labels: labels,
          datasets: spec.series.map(function (s) {
            return { label: s.label, data: s.points.map(function (p) { return p[1]; }), backgroundColor: s.color };
          })
        },
        options: {
          scales: {
            x: { stacked: true, title: { display: true, text: spec.x } },
            y: { stacked: true, beginAtZero: true, title: { display: true, text: spec.y }, ticks: { precision: 0 } }
          }
        }
      };
    },
    timeline: function (spec) {
      var rows = spec.requests;
      function bars(key) { return rows.map(function (r) { return r[key]; }); }
      var common = { grouped: false, barPercentage: 1, categoryPercentage: 0.9 };
      function ds(label, key, color) {
        var d = { label: label, data: bars(key), backgroundColor: color };
        for (var k in common) { d[k] = common[k]; }
        return d;
      }
      return {
        type: 'bar',
        data: {
          labels: rows.map(function (r) { return r.label; }),
          datasets: [ds('queue', 'queue', '#bbbbbb'), ds('prefill (TTFT)', 'prefill', '#636efa'), ds('decode', 'decode', '#2ca02c')]
        },
        options: {
          indexAxis: 'y',
          scales: {
            x: axis(spec.x, { min: 0 }),
            y: { title: { display: true, text: spec.y }, ticks: { autoSkip: true, maxTicksLimit: 30 } }
          }
        }
      };
    }
  };

  var drawn = 0;
  Object.keys(data.charts).forEach(function (id) {
    var spec = data.charts[id];
    var canvas = document.getElementById(id);
    if (!canvas) { throw new Error('no canvas for chart ' + id); }
    if (!make[spec.kind]) { throw new Error('unknown chart kind ' + spec.kind); }
    new Chart(canvas, make[spec.kind](spec));
    drawn++;
  });
  document.body.setAttribute('data-charts-drawn', String(drawn));
})();
