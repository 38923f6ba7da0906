// The dashboard page's only script: it draws the charts (uPlot) from the payload the server
// embedded, then applies each live update from the server-sent event stream: text fields by id,
// HTML fragments (rendered and escaped by the server) by id, chart data, and chart summaries.
'use strict';
(function () {
  var colours = ['#1f5fbf', '#1a7f37', '#8a6d00', '#b42318', '#6639ba'];
  var charts = {};
  var lastFragments = {};
  var live = document.getElementById('live');

  function chartData(c) {
    var data = [c.t];
    for (var i = 0; i < c.series.length; i++) data.push(c.series[i].values);
    return data;
  }

  function plotWidth(el) {
    return Math.max(280, Math.floor(el.getBoundingClientRect().width) || 480);
  }

  function drawChart(id, c) {
    var fig = document.querySelector('[data-chart="' + id + '"]');
    if (!fig || !c) return;
    var caption = document.getElementById('chart-' + id + '-title');
    var summary = document.getElementById('chart-' + id + '-summary');
    if (caption) caption.textContent = c.title;
    if (summary) summary.textContent = c.summary;
    var plot = fig.querySelector('.plot');
    fig.setAttribute('data-points', String(c.t.length));
    if (charts[id]) {
      charts[id].setData(chartData(c));
      return;
    }
    var series = [{}];
    for (var i = 0; i < c.series.length; i++) {
      series.push({
        label: c.series[i].label,
        stroke: colours[i % colours.length],
        width: 2,
        spanGaps: false,
        value: function (u, v) {
          return v === null || v === undefined
            ? '–'
            : (Math.round(v * 10) / 10).toString() + (c.unit === '/s' ? '/s' : '');
        },
      });
    }
    charts[id] = new uPlot(
      {
        width: plotWidth(plot),
        height: 220,
        series: series,
        scales: {
          x: { time: true },
          y: {
            range: function (u, min, max) {
              return [0, Math.max(1, max * 1.1)];
            },
          },
        },
        axes: [{ stroke: '#333' }, { stroke: '#333', size: 60 }],
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
      },
      chartData(c),
      plot,
    );
  }

  // Updates carry only what changed; every field seen so far is kept, so that fields inside a
  // replaced fragment (the graph's rates) are filled again.
  var fields = {};

  function apply(p) {
    var id;
    for (id in p.fields) fields[id] = p.fields[id];
    for (id in p.fragments) {
      if (lastFragments[id] === p.fragments[id]) continue;
      var el = document.getElementById(id);
      if (el) el.innerHTML = p.fragments[id];
      lastFragments[id] = p.fragments[id];
    }
    for (id in fields) {
      var f = document.getElementById(id);
      if (f && f.textContent !== fields[id]) f.textContent = fields[id];
    }
    for (id in p.charts) drawChart(id, p.charts[id]);
  }

  var initial = document.getElementById('initial');
  if (initial) {
    var first = JSON.parse(initial.textContent);
    for (var id in first.fragments) lastFragments[id] = first.fragments[id];
    apply(first);
  }

  var url = document.body.getAttribute('data-stream');
  if (url && window.EventSource) {
    var updates = 0;
    var source = new EventSource(url);
    source.onmessage = function (e) {
      apply(JSON.parse(e.data));
      updates++;
      document.body.setAttribute('data-updates', String(updates));
      live.textContent = 'Live · updated ' + new Date().toLocaleTimeString();
    };
    source.addEventListener('gone', function () {
      live.textContent = 'This resource no longer exists.';
      source.close();
    });
    source.onerror = function () {
      live.textContent = 'Reconnecting…';
    };
  } else if (live) {
    live.textContent = 'Not live: reload for new figures.';
  }

  window.addEventListener('resize', function () {
    for (var id in charts) {
      var plot = document.querySelector('[data-chart="' + id + '"] .plot');
      if (plot) charts[id].setSize({ width: plotWidth(plot), height: 220 });
    }
  });
})();
