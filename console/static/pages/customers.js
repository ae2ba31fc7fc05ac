// gridcrm console page: 客户 customers and the customer page (see console/doc.go; helpers in core.js).
'use strict';
(function () {
  const { el, num, kwh, yuan, pct, age, when, L, label, api, chart, homeRegion,
    addMonths, range, sum, PERIODS, periodMonths, change, changeSpan, route } = window.GC;
  const FILTERS = [['account_no', '户号'], ['feeder', '线路'], ['transformer_area', '台区'], ['grid', '网格']];
  async function customers(show, params) {
    const region = params.get('region') || homeRegion();
    const inputs = {};
    const form = el('form', { class: 'toolbar', id: 'customer-search' },
      el('label', {}, '区域 ', inputs.region = el('input', { name: 'region', value: region, size: 8 })),
      FILTERS.map(([k, lbl]) => el('label', {}, lbl + ' ', inputs[k] = el('input', { name: k, value: params.get(k) || '', size: 12 }))),
      el('label', {}, '类别 ', inputs.category = el('select', { name: 'category' }, el('option', { value: '' }, '全部'),
        Object.entries(L.category).map(([k, v]) => el('option', { value: k, selected: params.get('category') === k }, v)))),
      el('label', {}, '状态 ', inputs.status = el('select', { name: 'status' }, el('option', { value: '' }, '全部'),
        Object.entries(L.status).map(([k, v]) => el('option', { value: k, selected: params.get('status') === k }, v)))),
      el('button', { type: 'submit' }, '查询'));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const q = new URLSearchParams();
      for (const [k, i] of Object.entries(inputs)) if (i.value.trim()) q.set(k, i.value.trim());
      location.hash = '#/customers?' + q.toString();
    });
    const q = new URLSearchParams({ region, scope: 'subtree', limit: '50' });
    for (const k of ['account_no', 'feeder', 'transformer_area', 'grid', 'category', 'status', 'after']) if (params.get(k)) q.set(k, params.get(k));
    const page = await api('/api/v1/customers?' + q.toString());
    const next = new URLSearchParams(params); if (page.next) next.set('after', page.next);
    show(
      el('h1', { id: 'page-title' }, '客户'),
      el('p', { class: 'muted' }, '按索引查询：户号、线路、台区、网格为精确匹配；按名称、地址、电话的模糊搜索尚未提供（见 issue 14）。'),
      form,
      el('div', { class: 'toolbar' }, GC.exportButton('/api/v1/customers', q, '客户')), // every matching customer, not only this page
      el('div', { class: 'panel' }, el('table', { id: 'customers' },
        el('thead', {}, el('tr', {}, ['户号', '名称', '类别', '电压（千伏）', '容量（千伏安）', '区域', '状态', '地址'].map((h) => el('th', {}, h)))),
        el('tbody', {}, page.items.length === 0 ? el('tr', {}, el('td', { colspan: 8, class: 'muted' }, '没有符合条件的客户。'))
          : page.items.map((c) => el('tr', { class: 'link', 'data-id': c.id, onclick: () => { location.hash = '#/customer/' + c.id; } },
            el('td', {}, c.account_no), el('td', {}, el('a', { href: '#/customer/' + c.id }, c.name)), el('td', {}, label('category', c.category)),
            el('td', { class: 'num' }, String(c.voltage_kv)), el('td', { class: 'num' }, num(c.capacity_kva)), el('td', {}, c.region),
            el('td', {}, label('status', c.status)), el('td', {}, c.address || '')))))),
      el('div', { class: 'toolbar' }, params.get('after') ? el('button', { type: 'button', onclick: () => history.back() }, '← 上一页') : null,
        page.next ? el('a', { href: '#/customers?' + next.toString(), id: 'next-page' }, '下一页 →') : null),
    );
  }

  async function customer(show, id) {
    const c = await api('/api/v1/customers/' + encodeURIComponent(id));
    const settle = (p) => p.then((v) => ({ ok: v }), (e) => ({ err: e }));
    const [bills, cons, contacts, wos, projects] = await Promise.all([
      settle(api('/api/v1/bills?limit=1000&customer_id=' + encodeURIComponent(id))),
      settle(api('/api/v1/customers/' + encodeURIComponent(id) + '/consumption')),
      settle(api('/api/v1/contacts?customer_id=' + encodeURIComponent(id))),
      settle(api('/api/v1/work_orders?customer_id=' + encodeURIComponent(id))),
      settle(api('/api/v1/projects?customer_id=' + encodeURIComponent(id)))]);
    const section = (title, r, heads, row) => [el('h2', {}, title), r.err ? el('p', { class: 'error' }, '无法读取：' + r.err.message)
      : (r.ok.items.length === 0 ? el('p', { class: 'muted' }, '无') : el('div', { class: 'panel' }, el('table', {},
        el('thead', {}, el('tr', {}, heads.map((h) => el('th', {}, h)))), el('tbody', {}, r.ok.items.map((x) => el('tr', {}, row(x).map((v) => el('td', {}, v)))))))) ];
    const kv = (pairs) => el('dl', { class: 'kv' }, pairs.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v == null || v === '' ? '—' : v)]));
    const cl = cons.ok && cons.ok.classification;
    const chartDiv = el('div', { class: 'chart', id: 'chart-customer' });
    const tou = el('div', { class: 'chart', id: 'chart-tou' });
    show(
      el('div', { class: 'crumbs' }, el('a', { href: '#/overview/' + c.region }, '区域 ' + c.region), el('span', {}, '›'),
        el('a', { href: '#/customers?region=' + c.region }, '客户'), el('span', {}, '›'), el('span', {}, c.account_no)),
      el('h1', { id: 'page-title' }, c.name),
      el('div', { class: 'panel', id: 'profile' }, kv([['户号', c.account_no], ['类别', label('category', c.category)], ['供电电压', c.voltage_kv + ' 千伏'],
        ['合同容量', num(c.capacity_kva) + ' 千伏安'], ['行业', c.industry], ['地址', c.address], ['电话', c.phone], ['区域', c.region],
        ['网格', c.grid], ['线路', c.feeder], ['台区', c.transformer_area], ['状态', label('status', c.status)], ['标签', (c.tags || []).join('、')],
        ['分级', cl ? label('class', cl.class) + ' · ' + label('grade', cl.grade) : '—'], ['分级依据', cl && cl.reasons ? cl.reasons.join('；') : '—'],
        ['近12个月电量', cons.ok ? kwh(cons.ok.annual_kwh) : '—'], ['欠费', cons.ok ? yuan(cons.ok.arrears) : '—']])),
      el('div', { class: 'charts' }, chartDiv, tou),
      section('联系人', contacts, ['姓名', '职务', '电话', '邮箱'], (x) => [x.name, x.title || '', x.phone || '', x.email || '']),
      section('工单', wos, ['受理时间', '类型', '主题', '状态'], (x) => [when(x.received_at), x.kind, x.subject, label('woState', x.state)]),
      section('报装项目', projects, ['项目', '状态', '类别'], (x) => [x.name || x.id, x.status, x.class || '']),
    );
    if (bills.ok) {
      const bs = bills.ok.items.slice().sort((a, b) => (a.period < b.period ? -1 : 1)).slice(-24);
      chart(chartDiv, {
        title: { text: '近24个月电量与电费', textStyle: { fontSize: 14 } }, tooltip: { trigger: 'axis' },
        grid: { left: 70, right: 70, top: 40, bottom: 30 }, xAxis: { type: 'category', data: bs.map((b) => b.period) },
        yAxis: [{ type: 'value', name: '千瓦时', axisLabel: { formatter: (v) => num(v, 0) } }, { type: 'value', name: '元', axisLabel: { formatter: (v) => num(v, 0) } }],
        series: [{ name: '电量', type: 'bar', data: bs.map((b) => b.kwh) }, { name: '电费', type: 'line', yAxisIndex: 1, data: bs.map((b) => b.billed) },
          { name: '欠费', type: 'line', yAxisIndex: 1, data: bs.map((b) => b.arrears) }],
      });
    }
    if (cons.ok) {
      chart(tou, { title: { text: '峰平谷占比（近12个月）', textStyle: { fontSize: 14 } }, tooltip: { trigger: 'item' },
        series: [{ type: 'pie', radius: ['35%', '65%'], top: 20, data: [{ name: '峰', value: cons.ok.peak_share }, { name: '平', value: cons.ok.flat_share }, { name: '谷', value: cons.ok.valley_share }] }] });
    }
  }

  GC.page('customers', (show, parts, params) => customers(show, params));
  GC.page('customer', (show, parts) => customer(show, parts[1]), 'customers');
})();
