// gridcrm console page: 总览 overview (see console/doc.go; helpers in core.js).
'use strict';
(function () {
  const { el, num, kwh, yuan, pct, age, when, L, label, api, chart, homeRegion,
    addMonths, range, sum, PERIODS, periodMonths, change, changeSpan, route } = window.GC;
  let periodKind = 'month';

  async function overview(show, region) {
    const o = await api('/api/v1/stats/overview?region=' + encodeURIComponent(region));
    const months = Object.keys(o.kwh_by_month).sort();
    const latest = months[months.length - 1];
    const title = (o.name || o.region) + ' · ' + label('tier', o.tier) + '总览';
    const crumbs = el('div', { class: 'crumbs', id: 'crumbs' }, o.path.map((p, i) => i === o.path.length - 1
      ? el('span', {}, p.name || p.region)
      : [el('a', { href: '#/overview/' + p.region }, p.name || p.region), el('span', {}, '›')]));
    const bar = el('div', { class: 'toolbar' }, el('span', {}, '统计期：'),
      Object.entries(PERIODS).map(([k, v]) => el('button', { type: 'button', class: k === periodKind ? 'on' : '', 'data-period': k,
        onclick: () => { periodKind = k; route(); } }, v)));
    const cards = el('div', { class: 'cards', id: 'cards' });
    const card = (key, lbl, value, ...sub) => cards.append(el('div', { class: 'card', 'data-card': key },
      el('div', { class: 'label' }, lbl), el('div', { class: 'value' }, value), el('div', { class: 'sub' }, sub)));
    let per = null;
    if (latest) per = periodMonths(periodKind, latest);
    card('customers', '客户数', num(o.customers, 2) + ' 户', '正常 ' + num(o.customers_by_status.active || 0) + ' 户');
    if (per) {
      const k = sum(o.kwh_by_month, per.cur);
      card('sales', '售电量', kwh(k), per.name, ' ', changeSpan('同比', change(k, sum(o.kwh_by_month, per.yoy))),
        per.mom ? [' ', changeSpan('环比', change(k, sum(o.kwh_by_month, per.mom)))] : null);
      const b = sum(o.billed_by_month, per.cur);
      card('billed', '应收电费', yuan(b), per.name, ' ', changeSpan('同比', change(b, sum(o.billed_by_month, per.yoy))));
    } else {
      card('sales', '售电量', '—', '尚无电量数据');
      card('billed', '应收电费', '—', '尚无电费数据');
    }
    card('collection', '电费回收率', pct(o.collection_rate), '累计应收 ' + yuan(o.billed_total));
    card('arrears', '欠费金额', yuan(o.arrears), '当前未结清');
    card('work_orders', '在办工单', num(o.work_orders_open, 0) + ' 件',
      Object.entries(o.work_orders_open_by_state).map(([s, n]) => label('woState', s) + ' ' + n).join('，') || '无');
    card('late_stages', '逾期完成环节', num(o.project_stages_late, 0) + ' 个', '在办报装 ' + num(o.projects_open, 0) + ' 项');
    card('outages', '停电事件', num(o.outages, 0) + ' 次',
      Object.entries(o.outages_by_type).map(([t, n]) => label('outage', t) + ' ' + n).join('，') || '无');

    const monthly = el('div', { class: 'chart', id: 'chart-monthly' });
    const cat = el('div', { class: 'chart', id: 'chart-category' });
    const volt = el('div', { class: 'chart', id: 'chart-voltage' });
    const page = [el('h1', { id: 'page-title' }, title), crumbs, bar, cards, el('div', { class: 'charts' }, monthly, cat, volt)];

    // Children: one row per region below, with a bar chart of the chosen measure.
    const rows = o.children;
    if (rows.length) {
      const measure = el('select', { id: 'measure' },
        el('option', { value: 'kwh' }, '近12个月售电量'), el('option', { value: 'customers' }, '客户数'),
        el('option', { value: 'arrears' }, '欠费金额'), el('option', { value: 'work_orders' }, '在办工单'));
      const r12 = latest ? range(addMonths(latest, -11), latest) : [];
      const val = (c, m) => ({ kwh: sum(c.kwh_by_month, r12), customers: c.customers, arrears: c.arrears, work_orders: c.work_orders_open })[m];
      const regionChart = el('div', { class: 'chart', id: 'chart-children' });
      const table = el('table', { id: 'children' },
        el('thead', {}, el('tr', {}, ['下级区域', '代码', '客户数', '近12个月售电量', '应收电费（累计）', '回收率', '欠费金额', '在办工单', '逾期完成环节', '停电', '数据新鲜度']
          .map((h, i) => el('th', { class: i >= 2 && i < 10 ? 'num' : '' }, h)))),
        el('tbody', {}, rows.map((c) => el('tr', { class: 'link', 'data-region': c.region, onclick: () => { location.hash = '#/overview/' + c.region; } },
          el('td', {}, el('a', { href: '#/overview/' + c.region }, c.name || c.region)), el('td', {}, c.region),
          el('td', { class: 'num' }, num(c.customers)), el('td', { class: 'num' }, kwh(sum(c.kwh_by_month, r12))),
          el('td', { class: 'num' }, yuan(c.billed_total)), el('td', { class: 'num' }, pct(c.collection_rate)),
          el('td', { class: 'num' }, yuan(c.arrears)), el('td', { class: 'num' }, num(c.work_orders_open, 0)),
          el('td', { class: 'num' }, num(c.project_stages_late, 0)), el('td', { class: 'num' }, num(c.outages, 0)),
          el('td', { class: c.freshness_age_seconds > 300 ? 'stale' : '' }, age(c.freshness_age_seconds))))));
      page.push(el('h2', {}, '下级区域'), el('div', { class: 'toolbar' }, el('span', {}, '图表指标：'), measure), regionChart, el('div', { class: 'panel' }, table));
      if (rows.length) page.push(el('div', { class: 'toolbar' }, GC.exportButton('/api/v1/stats/overview', { region: o.region }, '下级区域'))); // the table's rows as .xlsx
      const draw = () => {
        const m = measure.value;
        const c = window.echarts && window.echarts.getInstanceByDom(regionChart);
        const opt = {
          tooltip: { trigger: 'axis' }, grid: { left: 80, right: 20, top: 30, bottom: 40 },
          xAxis: { type: 'category', data: rows.map((c) => c.name || c.region) },
          yAxis: { type: 'value', axisLabel: { formatter: (v) => num(v, 0) } },
          visualMap: { show: false, min: 0, max: Math.max(1, ...rows.map((c) => val(c, m))), inRange: { color: ['#9ecae1', '#08519c'] } },
          series: [{ type: 'bar', barMaxWidth: 60, data: rows.map((c) => ({ value: val(c, m), region: c.region })) }],
        };
        if (c) c.setOption(opt, true); else chart(regionChart, opt);
        const inst = window.echarts && window.echarts.getInstanceByDom(regionChart);
        if (inst && !c) inst.on('click', (p) => { if (p.data && p.data.region) location.hash = '#/overview/' + p.data.region; });
      };
      measure.addEventListener('change', draw);
      setTimeout(draw, 0);
    } else {
      page.push(el('p', {}, el('a', { href: '#/customers?region=' + o.region, id: 'to-customers' }, '查看本区域客户 →')));
    }
    if (o.own) page.push(el('p', { class: 'muted' }, '本级直属：客户 ' + num(o.own.customers) + ' 户，欠费 ' + yuan(o.own.arrears) + '。'));
    show(...page);

    const shown = months.slice(-24);
    chart(monthly, {
      title: { text: '月度售电量与电费', textStyle: { fontSize: 14 } },
      tooltip: { trigger: 'axis' }, legend: { top: 4, right: 10, data: ['售电量（千瓦时）', '电费（元）'] },
      grid: { left: 70, right: 70, top: 50, bottom: 30 },
      xAxis: { type: 'category', data: shown },
      yAxis: [{ type: 'value', axisLabel: { formatter: (v) => num(v, 0) } }, { type: 'value', axisLabel: { formatter: (v) => num(v, 0) } }],
      series: [{ name: '售电量（千瓦时）', type: 'bar', data: shown.map((m) => Math.round(o.kwh_by_month[m] || 0)) },
        { name: '电费（元）', type: 'line', yAxisIndex: 1, data: shown.map((m) => Math.round(o.billed_by_month[m] || 0)) }],
    });
    chart(cat, {
      title: { text: '按用电类别', textStyle: { fontSize: 14 } }, tooltip: { trigger: 'item' },
      series: [{ type: 'pie', radius: ['35%', '65%'], top: 20, data: Object.entries(o.customers_by_category).map(([k, v]) => ({ name: label('category', k), value: v })) }],
    });
    chart(volt, {
      title: { text: '按电压等级', textStyle: { fontSize: 14 } }, tooltip: { trigger: 'item' },
      series: [{ type: 'pie', radius: ['35%', '65%'], top: 20, data: ['low', 'medium', 'high'].filter((k) => o.customers_by_voltage_class[k])
        .map((k) => ({ name: label('voltage', k), value: o.customers_by_voltage_class[k] })) }],
    });
  }

  GC.page('overview', (show, parts) => overview(show, parts[1] || homeRegion()));
})();
