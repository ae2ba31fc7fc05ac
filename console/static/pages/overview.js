// gridcrm console page: 总览 overview (see console/doc.go; helpers in core.js).
// Figures: GET /api/v1/stats/overview (api/console.go, counters only).
// Map: the province's cities (vendor/geo/jiangsu.json) or a city's counties
// (vendor/geo/jiangsu/<city>.json), served by the node; see
// vendor/geo/SOURCES.md. Features are matched to regions by GB/T 2260 code.
'use strict';
(function () {
  const { el, num, kwh, yuan, pct, age, label, api, chart, homeRegion,
    addMonths, range, sum, PERIODS, periodMonths, change, changeSpan, route, tr } = window.GC;
  let periodKind = 'month';
  let measureKind = 'kwh';
  const STALE_SECONDS = 300; // a region whose newest rolled-up change is older shows red

  const BUCKETS = { '0-30': ['0–30天', '0–30 days'], '31-60': ['31–60天', '31–60 days'], '61-90': ['61–90天', '61–90 days'], '91+': ['91天以上', '91 days and more'] };
  const MEASURES = {
    kwh: { get name() { return tr('近12个月售电量', 'Sales, last 12 months'); }, fmt: kwh },
    customers: { get name() { return tr('客户数', 'Customers'); }, fmt: (v) => num(v) + tr(' 户', '') },
    arrears: { get name() { return tr('欠费金额', 'Arrears'); }, fmt: yuan },
    collection: { get name() { return tr('电费回收率', 'Collection rate'); }, fmt: (v) => pct(v) },
    work_orders: { get name() { return tr('在办工单', 'Open work orders'); }, fmt: (v) => num(v, 0) + tr(' 件', '') },
  };

  // esc: ECharts tooltips are HTML; every string put in one is escaped.
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

  // mapFor answers the ECharts map name of the region's map (registered
  // once per page load), or null when there is none (a county, or a
  // region outside the vendored province).
  const maps = {};
  const CITIES = ['3201', '3202', '3203', '3204', '3205', '3206', '3207', '3208', '3209', '3210', '3211', '3212', '3213'];
  async function mapFor(region) {
    if (!window.echarts || (region !== '32' && !CITIES.includes(region))) return null; // vendored: Jiangsu only
    const name = 'gc-' + region;
    if (maps[name]) return maps[name];
    const file = region === '32' ? 'vendor/geo/jiangsu.json' : 'vendor/geo/jiangsu/' + region + '.json';
    const resp = await fetch(file, { credentials: 'same-origin' });
    if (!resp.ok) return null;
    const geo = await resp.json();
    const names = {};
    for (const f of geo.features) {
      // the cities' file keeps its upstream form: id 320700 → region 3207
      const p = f.properties;
      p.code = p.code || String(f.id || '').slice(0, 4);
      names[p.code] = p.name;
    }
    window.echarts.registerMap(name, geo);
    maps[name] = { name, names, codes: Object.keys(names).sort() };
    return maps[name];
  }

  // drill opens the overview of the region clicked in a chart, after
  // ECharts has finished with the click (the route disposes the chart).
  const drill = (p) => { if (p.data && p.data.region) setTimeout(() => { location.hash = '#/overview/' + p.data.region; }, 0); };

  function drawMap(div, m, rows, val, fmt, measure) {
    const byCode = Object.fromEntries(rows.map((c) => [c.region, c]));
    const vals = rows.map((c) => val(c)).filter((v) => v != null && isFinite(v));
    const min = measure === 'collection' && vals.length ? Math.min(...vals) : 0;
    const max = Math.max(min + 1e-9, ...vals);
    const data = m.codes.map((code) => {
      const c = byCode[code];
      const v = c ? val(c) : null;
      return { name: code, region: c ? code : '', label: (c && c.name) || m.names[code] || code, value: v == null ? '-' : v };
    });
    const opt = {
      tooltip: {
        trigger: 'item',
        formatter: (p) => {
          const d = p.data || { label: m.names[p.name] || p.name };
          const v = d.value === '-' || d.value == null ? tr('未接入本系统', 'not on this system') : fmt(d.value);
          return esc(d.label) + '（' + esc(p.name) + '）<br>' + esc(MEASURES[measure].name) + '：' + esc(v);
        },
      },
      visualMap: {
        type: 'continuous', min, max, left: 10, bottom: 10, calculable: false, text: [tr('高', 'high'), tr('低', 'low')],
        inRange: { color: measure === 'collection' ? ['#fdae6b', '#c6dbef', '#08519c'] : ['#deebf7', '#6baed6', '#08519c'] },
        formatter: (v) => fmt(v),
      },
      series: [{
        type: 'map', map: m.name, nameProperty: 'code', roam: false, selectedMode: false, layoutCenter: ['50%', '50%'], layoutSize: '96%',
        label: { show: true, fontSize: 11, formatter: (p) => (p.data && p.data.label) || m.names[p.name] || p.name },
        emphasis: { label: { show: true }, itemStyle: { areaColor: '#ffd04b' } },
        itemStyle: { borderColor: '#fff', borderWidth: 1, areaColor: '#e6e9ed' },
        data,
      }],
    };
    const inst = window.echarts.getInstanceByDom(div);
    if (inst) { inst.setOption(opt, true); return; }
    chart(div, opt);
    const c = window.echarts.getInstanceByDom(div);
    if (c) c.on('click', drill);
  }

  async function overview(show, region) {
    const o = await api('/api/v1/stats/overview?region=' + encodeURIComponent(region));
    const months = Object.keys(o.kwh_by_month).sort();
    const latest = months[months.length - 1];
    const title = (o.name || o.region) + ' · ' + label('tier', o.tier) + tr('总览', ' overview');
    const crumbs = el('div', { class: 'crumbs', id: 'crumbs' }, o.path.map((p, i) => i === o.path.length - 1
      ? el('span', {}, p.name || p.region)
      : [el('a', { href: '#/overview/' + p.region }, p.name || p.region), el('span', {}, '›')]));
    const fresh = o.freshness_age_seconds;
    const bar = el('div', { class: 'toolbar' }, el('span', {}, tr('统计期：', 'Period: ')),
      Object.entries(PERIODS).map(([k, v]) => el('button', { type: 'button', class: k === periodKind ? 'on' : '', 'data-period': k,
        onclick: () => { periodKind = k; route(); } }, v)),
      el('span', { class: 'muted' }, tr('　数据新鲜度：', '  Freshness: ')),
      el('span', { id: 'freshness', class: fresh > STALE_SECONDS ? 'stale' : '' }, age(fresh)));
    const cards = el('div', { class: 'cards', id: 'cards' });
    const card = (key, lbl, value, ...sub) => cards.append(el('div', { class: 'card', 'data-card': key },
      el('div', { class: 'label' }, lbl), el('div', { class: 'value' }, value), el('div', { class: 'sub' }, sub)));
    let per = null;
    if (latest) per = periodMonths(periodKind, latest);
    card('customers', tr('客户数', 'Customers'), num(o.customers, 2) + tr(' 户', ''), tr('正常 ', 'Active ') + num(o.customers_by_status.active || 0) + tr(' 户', ''));
    if (per) {
      const k = sum(o.kwh_by_month, per.cur);
      card('sales', tr('售电量', 'Sales'), kwh(k), per.name, ' ', changeSpan(tr('同比', 'YoY'), change(k, sum(o.kwh_by_month, per.yoy))),
        per.mom ? [' ', changeSpan(tr('环比', 'MoM'), change(k, sum(o.kwh_by_month, per.mom)))] : null);
      const b = sum(o.billed_by_month, per.cur);
      card('billed', tr('应收电费', 'Billed'), yuan(b), per.name, ' ', changeSpan(tr('同比', 'YoY'), change(b, sum(o.billed_by_month, per.yoy))));
    } else {
      card('sales', tr('售电量', 'Sales'), '—', tr('尚无电量数据', 'no consumption yet'));
      card('billed', tr('应收电费', 'Billed'), '—', tr('尚无电费数据', 'no bills yet'));
    }
    card('collection', tr('电费回收率', 'Collection rate'), pct(o.collection_rate), tr('累计应收 ', 'Billed in total ') + yuan(o.billed_total));
    card('arrears', tr('欠费金额', 'Arrears'), yuan(o.arrears), tr('欠费 ', 'Unpaid ') + num(o.arrears_bills, 0) + tr(' 笔（账龄自电费月次月1日起算）', ' bills (age from the 1st of the month after the bill\'s)'),
      el('table', { class: 'ageing', id: 'ageing' }, el('tbody', {}, (o.arrears_ageing || []).map((b) =>
        el('tr', { 'data-bucket': b.bucket }, el('td', {}, BUCKETS[b.bucket] ? tr(...BUCKETS[b.bucket]) : b.bucket),
          el('td', { class: 'num' }, yuan(b.amount)), el('td', { class: 'num' }, num(b.bills, 0) + tr(' 笔', ' bills')))))));
    card('work_orders', tr('在办工单', 'Open work orders'), num(o.work_orders_open, 0) + tr(' 件', ''),
      Object.entries(o.work_orders_open_by_state).map(([s, n]) => label('woState', s) + ' ' + n).join(tr('，', ', ')) || tr('无', 'none'));
    card('overdue_stages', tr('逾期环节', 'Overdue stages'), num(o.project_stages_overdue, 0) + tr(' 个', ''),
      tr('当前已超时限；在办报装 ', 'past their limit now; open projects ') + num(o.projects_open, 0) + tr(' 项，逾期完成环节累计 ', ', stages done late in all ') + num(o.project_stages_late, 0) + tr(' 个', ''),
      o.project_stages_no_deadline ? tr('，', ', ') + o.project_stages_no_deadline + tr(' 个缺工作日历无法计时', ' without a working-day calendar to time them') : '');
    card('outages', tr('本月停电事件', 'Outages this month'), num(o.outages_this_month, 0) + tr(' 次', ''),
      tr((o.month || '').replace('-', '年') + '月：', (o.month || '') + ': ') + (Object.entries(o.outages_this_month_by_type || {}).map(([t, n]) => label('outage', t) + ' ' + n).join(tr('，', ', ')) || tr('无', 'none')),
      tr('；累计 ', '; in all ') + num(o.outages, 0) + tr(' 次', ''));

    const monthly = el('div', { class: 'chart', id: 'chart-monthly' });
    const cat = el('div', { class: 'chart', id: 'chart-category' });
    const volt = el('div', { class: 'chart', id: 'chart-voltage' });
    const page = [el('h1', { id: 'page-title' }, title), crumbs, bar, cards, el('div', { class: 'charts' }, monthly, cat, volt)];

    // Children: the map (cities or counties), a bar chart of the chosen
    // measure and a table, one row per region below; a click drills down.
    const rows = o.children;
    const r12 = latest ? range(addMonths(latest, -11), latest) : [];
    const val = (c, m) => ({ kwh: sum(c.kwh_by_month, r12), customers: c.customers, arrears: c.arrears,
      collection: c.collection_rate, work_orders: c.work_orders_open })[m];
    let geo = null;
    let draw = null; // draws the map and the bar chart, once the page is shown
    try { geo = await mapFor(o.region); } catch (_) { geo = null; }
    if (rows.length || geo) {
      const measure = el('select', { id: 'measure' }, Object.entries(MEASURES).map(([k, v]) =>
        el('option', { value: k, selected: k === measureKind }, v.name)));
      const mapDiv = geo ? el('div', { class: 'chart map', id: 'chart-map', 'data-map': geo.name }) : null;
      const regionChart = el('div', { class: 'chart', id: 'chart-children' });
      const table = el('table', { id: 'children' },
        el('thead', {}, el('tr', {}, [tr('下级区域', 'Region'), tr('代码', 'Code'), tr('客户数', 'Customers'), tr('近12个月售电量', 'Sales, 12 months'), tr('应收电费（累计）', 'Billed (in all)'), tr('回收率', 'Collection'), tr('欠费金额', 'Arrears'), tr('在办工单', 'Open orders'), tr('逾期环节', 'Overdue stages'), tr('本月停电', 'Outages'), tr('数据新鲜度', 'Freshness')]
          .map((h, i) => el('th', { class: i >= 2 && i < 10 ? 'num' : '' }, h)))),
        el('tbody', {}, rows.map((c) => el('tr', { class: 'link', 'data-region': c.region, onclick: () => { location.hash = '#/overview/' + c.region; } },
          el('td', {}, el('a', { href: '#/overview/' + c.region }, c.name || (geo && geo.names[c.region]) || c.region)), el('td', {}, c.region),
          el('td', { class: 'num' }, num(c.customers)), el('td', { class: 'num' }, kwh(sum(c.kwh_by_month, r12))),
          el('td', { class: 'num' }, yuan(c.billed_total)), el('td', { class: 'num' }, pct(c.collection_rate)),
          el('td', { class: 'num' }, yuan(c.arrears)), el('td', { class: 'num' }, num(c.work_orders_open, 0)),
          el('td', { class: 'num' }, num(c.project_stages_overdue, 0)), el('td', { class: 'num' }, num(c.outages_this_month, 0)),
          el('td', { class: c.freshness_age_seconds > STALE_SECONDS ? 'stale' : '' }, age(c.freshness_age_seconds))))));
      page.push(el('h2', {}, geo ? (o.tier === 'province' ? tr('各地市', 'Cities') : tr('各区县', 'Counties')) : tr('下级区域', 'Regions below')),
        el('div', { class: 'toolbar' }, el('span', {}, tr('着色指标：', 'Colour by: ')), measure), mapDiv, rows.length ? regionChart : null,
        rows.length ? el('div', { class: 'panel' }, table) : el('p', { class: 'muted' }, tr('本区域下暂无接入的下级区域。', 'No region below this one is on the system yet.')));
      if (rows.length) page.push(el('div', { class: 'toolbar' }, GC.exportButton('/api/v1/stats/overview', { region: o.region }, '下级区域'))); // the table's rows as .xlsx
      draw = () => {
        const m = measureKind = measure.value;
        const fmt = MEASURES[m].fmt;
        if (mapDiv) drawMap(mapDiv, geo, rows, (c) => val(c, m), fmt, m);
        if (!rows.length) return;
        const c = window.echarts && window.echarts.getInstanceByDom(regionChart);
        const opt = {
          tooltip: { trigger: 'axis' }, grid: { left: 80, right: 20, top: 30, bottom: 40 },
          xAxis: { type: 'category', data: rows.map((c) => c.name || c.region) },
          yAxis: { type: 'value', axisLabel: { formatter: (v) => (m === 'collection' ? pct(v) : num(v, 0)) } },
          series: [{ type: 'bar', barMaxWidth: 60, name: MEASURES[m].name, itemStyle: { color: '#3182bd' },
            data: rows.map((c) => ({ value: val(c, m), region: c.region })) }],
        };
        if (c) c.setOption(opt, true); else chart(regionChart, opt);
        const inst = window.echarts && window.echarts.getInstanceByDom(regionChart);
        if (inst && !c) inst.on('click', drill);
      };
      measure.addEventListener('change', draw);
    }
    if (!rows.length) {
      page.push(el('p', {}, el('a', { href: '#/customers?region=' + o.region, id: 'to-customers' }, tr('查看本区域客户 →', 'This region\'s customers →'))));
    }
    if (o.own) page.push(el('p', { class: 'muted' }, tr('本级直属：客户 ', 'Held at this tier: customers ') + num(o.own.customers) + tr(' 户，欠费 ', ', arrears ') + yuan(o.own.arrears) + tr('。', '.')));
    // Actual against forecast (GET /api/v1/forecast/demand, from the same
    // counters): the next 12 months, and the last 12 as forecast a year
    // before them, when the history allows (12 months with consumption up
    // to the origin for the first, 24 for the second: asked for only then,
    // so no page asks for what the API must refuse). An answer without a
    // body (a forecast the API could not encode) draws no forecast line.
    const sold = months.filter((m) => o.kwh_by_month[m] > 0);
    const fq = '/api/v1/forecast/demand?region=' + encodeURIComponent(o.region) + '&scope=subtree&horizon=12';
    const back = latest ? addMonths(latest, -12) : null;
    const settle = (p) => p.then((v) => v, () => null);
    const [ahead, before] = await Promise.all([
      sold.length >= 12 && sold[sold.length - 1] === latest ? settle(api(fq)) : null,
      back && o.kwh_by_month[back] > 0 && sold.filter((m) => m <= back).length >= 24 ? settle(api(fq + '&as_of=' + back)) : null]);
    const fit = el('p', { class: 'muted', id: 'forecast-fit' });
    page.splice(page.findIndex((n) => n && n.classList && n.classList.contains('charts')) + 1, 0, fit);
    show(...page); // throws when a newer page has started: nothing is drawn on this one
    if (draw) draw();

    const shown = months.slice(-24);
    const fc = {};
    for (const f of [before, ahead]) if (f && f.months) f.months.forEach((m) => { fc[m.month] = m.kwh; });
    const axis = shown.concat(ahead ? ahead.months.map((m) => m.month).filter((m) => !shown.includes(m)) : []);
    if (before) {
      const errs = before.months.filter((m) => o.kwh_by_month[m.month] > 0).map((m) => Math.abs(m.kwh - o.kwh_by_month[m.month]) / o.kwh_by_month[m.month]);
      if (errs.length) {
        fit.textContent = tr('近12个月实际与一年前所作预测相比：平均绝对百分比误差 ', 'The last 12 months against the forecast made a year before them: mean absolute percentage error ') +
          pct(errs.reduce((a, b) => a + b, 0) / errs.length) + tr('（预测起点 ', ' (origin ') + before.origin + tr('，方法 ', ', method ') + before.method + tr('）', ')');
      }
    } else if (ahead) {
      fit.textContent = tr('虚线为未来12个月预测（方法 ', 'The dashed line is the forecast of the next 12 months (method ') + ahead.method +
        tr('）；历史满24个月后同时显示近12个月的实际与预测对比。', '); with 24 months of history the last 12 also show against their forecast.');
    }
    const fcName = tr('预测售电量（千瓦时）', 'Forecast sales (kWh)');
    const kName = tr('售电量（千瓦时）', 'Sales (kWh)'), yName = tr('电费（元）', 'Billed (yuan)');
    chart(monthly, {
      title: { text: tr('月度售电量：实际与预测', 'Monthly sales: actual and forecast'), textStyle: { fontSize: 14 } },
      tooltip: { trigger: 'axis' }, legend: { top: 24, right: 10, data: [kName, yName].concat(ahead || before ? [fcName] : []) },
      grid: { left: 70, right: 70, top: 60, bottom: 30 },
      xAxis: { type: 'category', data: axis },
      yAxis: [{ type: 'value', axisLabel: { formatter: (v) => num(v, 0) } }, { type: 'value', axisLabel: { formatter: (v) => num(v, 0) } }],
      series: [{ name: kName, type: 'bar', data: axis.map((m) => (shown.includes(m) ? Math.round(o.kwh_by_month[m] || 0) : null)) },
        { name: yName, type: 'line', yAxisIndex: 1, data: axis.map((m) => (shown.includes(m) ? Math.round(o.billed_by_month[m] || 0) : null)) }]
        .concat(ahead || before ? [{ name: fcName, type: 'line', lineStyle: { type: 'dashed' }, itemStyle: { color: '#e6550d' },
          data: axis.map((m) => (fc[m] == null ? null : Math.round(fc[m]))) }] : []),
    });
    chart(cat, {
      title: { text: tr('按用电类别', 'By category'), textStyle: { fontSize: 14 } }, tooltip: { trigger: 'item' },
      series: [{ type: 'pie', radius: ['35%', '65%'], top: 20, data: Object.entries(o.customers_by_category).map(([k, v]) => ({ name: label('category', k), value: v })) }],
    });
    chart(volt, {
      title: { text: tr('按电压等级', 'By voltage class'), textStyle: { fontSize: 14 } }, tooltip: { trigger: 'item' },
      series: [{ type: 'pie', radius: ['35%', '65%'], top: 20, data: ['low', 'medium', 'high'].filter((k) => o.customers_by_voltage_class[k])
        .map((k) => ({ name: label('voltage', k), value: o.customers_by_voltage_class[k] })) }],
    });
  }

  GC.page('overview', (show, parts) => overview(show, parts[1] || homeRegion()));
})();
