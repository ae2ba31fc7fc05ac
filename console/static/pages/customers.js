// gridcrm console page: 客户 customers — search as desk staff type, the
// indexed list, the customer page, and the create and edit forms (see
// console/doc.go; helpers in core.js).
//
// Routes: #/customers[?q=&region=&category=&status=&cursor=] search (q) or
// the indexed list (no q: account_no, feeder, transformer_area, grid,
// category, status, after); #/customers/new the create form;
// #/customer/<id> the customer page; #/customer/<id>/edit the edit form.
// Every read is bounded: the search reads the search index
// (GET /api/v1/customers/search), the customer page one customer's records
// through their customer_id index.
'use strict';
(function () {
  const { el, num, kwh, yuan, pct, when, L, label, api, chart, homeRegion, route } = window.GC;
  const FILTERS = [['account_no', '户号'], ['feeder', '线路'], ['transformer_area', '台区'], ['grid', '网格']];
  const WRITERS = ['admin', 'manager', 'agent']; // api/auth.go writeRolesOf["customers"]
  const VOLTAGES = [0.22, 0.38, 0.4, 6, 10, 20, 35, 66, 110, 220, 330, 500]; // crm.SupplyVoltages
  const enc = encodeURIComponent;

  // who answers the session's user and node ({} before one is known).
  function who() {
    const s = GC.session ? GC.session() : null;
    return { user: (s && s.user) || {}, node: (s && s.node) || {} };
  }
  // mayWrite: the user's role writes customers and a customer of region
  // is written at this node (its own region's). The API refuses anyway.
  function mayWrite(region) {
    const w = who();
    return WRITERS.includes(w.user.role) && (!region || region === w.node.region);
  }

  // ---------- the list and the search ----------
  function rowsOf(items) {
    if (items.length === 0) return el('tr', {}, el('td', { colspan: 8, class: 'muted', id: 'no-customers' }, '没有符合条件的客户。'));
    return items.map((c) => el('tr', { class: 'link', 'data-id': c.id, onclick: () => { location.hash = '#/customer/' + c.id; } },
      el('td', {}, c.account_no), el('td', {}, el('a', { href: '#/customer/' + c.id }, c.name)), el('td', {}, label('category', c.category)),
      el('td', { class: 'num' }, String(c.voltage_kv)), el('td', { class: 'num' }, num(c.capacity_kva)), el('td', {}, c.region),
      el('td', {}, label('status', c.status)), el('td', {}, [c.address || '', c.phone ? ' · ' + c.phone : ''].join(''))));
  }

  async function customers(show, params) {
    const region = params.get('region') || homeRegion();
    const text = (params.get('q') || '').trim();
    const inputs = {};
    const qInput = el('input', { id: 'customer-q', name: 'q', type: 'search', value: text, size: 36, autocomplete: 'off',
      placeholder: '名称、户号、地址、电话、线路、台区或标签的一部分' });
    const form = el('form', { class: 'toolbar', id: 'customer-search' },
      el('label', {}, '搜索 ', qInput),
      el('label', {}, '区域 ', inputs.region = el('input', { name: 'region', value: region, size: 8 })),
      el('label', {}, '类别 ', inputs.category = el('select', { name: 'category' }, el('option', { value: '' }, '全部'),
        Object.entries(L.category).map(([k, v]) => el('option', { value: k, selected: params.get('category') === k }, v)))),
      el('label', {}, '状态 ', inputs.status = el('select', { name: 'status' }, el('option', { value: '' }, '全部'),
        Object.entries(L.status).map(([k, v]) => el('option', { value: k, selected: params.get('status') === k }, v)))),
      el('button', { type: 'submit' }, '查询'));
    const exact = el('details', { class: 'toolbar', id: 'exact-filters', open: !text && FILTERS.some(([k]) => params.get(k)) },
      el('summary', {}, '精确筛选（户号、线路、台区、网格）'),
      FILTERS.map(([k, lbl]) => el('label', {}, lbl + ' ', inputs[k] = el('input', { name: k, value: params.get(k) || '', size: 12 }))));
    const hashOf = (extra) => {
      const q = new URLSearchParams();
      if (qInput.value.trim()) q.set('q', qInput.value.trim());
      for (const [k, i] of Object.entries(inputs)) if (i.value.trim() && (k === 'region' || k === 'category' || k === 'status' || !qInput.value.trim())) q.set(k, i.value.trim());
      for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
      return '#/customers?' + q.toString();
    };
    form.addEventListener('submit', (ev) => { ev.preventDefault(); location.hash = hashOf(); });

    const tbody = el('tbody', {});
    const status = el('p', { class: 'muted', id: 'search-status' });
    const pager = el('div', { class: 'toolbar', id: 'pager' });
    const exportSlot = el('div', { class: 'toolbar' });

    // search runs q against the index and fills the table in place.
    let seq = 0;
    async function search(cursor) {
      const my = ++seq;
      const q = new URLSearchParams({ q: qInput.value.trim(), region: inputs.region.value.trim() || region, limit: '50' });
      if (inputs.category.value) q.set('category', inputs.category.value);
      if (inputs.status.value) q.set('status', inputs.status.value);
      if (cursor) q.set('cursor', cursor);
      const page = await api('/api/v1/customers/search?' + q.toString());
      if (my !== seq) return;
      tbody.replaceChildren(...[rowsOf(page.items)].flat());
      status.textContent = '搜索“' + q.get('q') + '”：本页 ' + page.items.length + ' 户' + (page.partial ? '（已检索一部分，点“继续搜索”查看更多）' : '');
      pager.replaceChildren(cursor ? el('button', { type: 'button', onclick: () => history.back() }, '← 上一页') : '',
        page.next ? el('a', { href: hashOf({ cursor: page.next }), id: 'next-page' }, page.partial ? '继续搜索 →' : '下一页 →') : '');
    }
    // As staff type: a quiet 250 ms after the last key, search; the URL
    // follows (replaceState: no new history entry, no re-render).
    let timer = null;
    qInput.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const v = qInput.value.trim();
        if (!v) return;
        history.replaceState(null, '', hashOf());
        try { await search(''); } catch (e) {
          if (e.status === 401) return;
          status.textContent = ''; tbody.replaceChildren(el('tr', {}, el('td', { colspan: 8, class: 'error', id: 'search-error' }, e.message)));
        }
      }, 250);
    });

    const newButton = mayWrite('') ? el('a', { href: '#/customers/new', class: 'button', id: 'new-customer' }, '新建客户') : null;
    const heads = ['户号', '名称', '类别', '电压（千伏）', '容量（千伏安）', '区域', '状态', '地址 · 电话'];
    const body = () => [
      el('h1', { id: 'page-title' }, '客户'),
      form, exact,
      el('div', { class: 'toolbar' }, newButton, exportSlot),
      status,
      el('div', { class: 'panel' }, el('table', { id: 'customers' }, el('thead', {}, el('tr', {}, heads.map((h) => el('th', {}, h)))), tbody)),
      pager,
    ];
    if (text) {
      try {
        await search(params.get('cursor') || '');
      } catch (e) {
        if (e.status !== 400) throw e; // 403 and the like: the router says 无权查看
        tbody.replaceChildren(el('tr', {}, el('td', { colspan: 8, class: 'error', id: 'search-error' }, e.message)));
      }
      show(...body());
      qInput.focus();
      return;
    }
    // No text: the indexed list (exact filters), with paging and export.
    const q = new URLSearchParams({ region, scope: 'subtree', limit: '50' });
    for (const k of ['account_no', 'feeder', 'transformer_area', 'grid', 'category', 'status', 'after']) if (params.get(k)) q.set(k, params.get(k));
    const page = await api('/api/v1/customers?' + q.toString());
    tbody.replaceChildren(...[rowsOf(page.items)].flat());
    status.textContent = '输入名称、户号前缀、地址、电话等的一部分即可搜索（不区分全角半角与大小写）；下面是按索引列出的客户。';
    if (GC.exportButton) exportSlot.append(GC.exportButton('/api/v1/customers', q, '客户')); // every matching customer, not only this page
    const next = new URLSearchParams(params); if (page.next) next.set('after', page.next);
    pager.replaceChildren(params.get('after') ? el('button', { type: 'button', onclick: () => history.back() }, '← 上一页') : '',
      page.next ? el('a', { href: '#/customers?' + next.toString(), id: 'next-page' }, '下一页 →') : '');
    show(...body());
  }

  // ---------- the customer page ----------
  async function customer(show, id) {
    const c = await api('/api/v1/customers/' + enc(id));
    const settle = (p) => p.then((v) => ({ ok: v }), (e) => ({ err: e }));
    const by = (coll, extra) => settle(api('/api/v1/' + coll + '?customer_id=' + enc(id) + '&limit=' + (extra || 50)));
    const [bills, cons, contacts, visits, wos, projects, keyProjects, gold, plans, memos, capChanges] = await Promise.all([
      by('bills', 1000), settle(api('/api/v1/customers/' + enc(id) + '/consumption')), by('contacts'), by('interactions'),
      by('work_orders'), by('projects'), by('key_projects'), by('gold_assignments'), by('service_plans'), by('service_memos'), by('capacity_changes')]);
    // The gold manager's name: one point read of the staff record.
    const activeGold = gold.ok ? gold.ok.items.filter((g) => g.status !== 'ended') : [];
    const staff = activeGold.length ? await settle(api('/api/v1/staff/' + enc(activeGold[0].staff_id))) : null;
    const section = (title, sid, r, heads, row) => [el('h2', {}, title), r.err ? el('p', { class: 'error' }, '无法读取：' + r.err.message)
      : (r.ok.items.length === 0 ? el('p', { class: 'muted', id: sid + '-none' }, '无') : el('div', { class: 'panel' }, el('table', { id: sid },
        el('thead', {}, el('tr', {}, heads.map((h) => el('th', {}, h)))), el('tbody', {}, r.ok.items.map((x) => el('tr', {}, row(x).map((v) => el('td', {}, v)))))))) ];
    const kv = (pairs, attrs) => el('dl', Object.assign({ class: 'kv' }, attrs || {}), pairs.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v == null || v === '' ? '—' : v)]));
    const cl = cons.ok && cons.ok.classification;
    const chartDiv = el('div', { class: 'chart', id: 'chart-customer' });
    const tou = el('div', { class: 'chart', id: 'chart-tou' });
    const items = (p) => ['implementation', 'internal_tracking', 'revisit', 'post_energisation'].flatMap((k) => p[k] || []);
    const memoLines = (m) => [].concat((m.communication || []).map((n) => [n.date, '沟通', n.summary]), (m.meetings || []).map((n) => [n.date, '会办', n.issues]),
      (m.demand || []).map((n) => [n.date, '需求', [n.capacity_kva ? num(n.capacity_kva) + ' 千伏安' : '', n.reliability || ''].filter(Boolean).join('，')]),
      (m.general_affairs || []).map((n) => [n.date, '事务', n.subject])).sort((a, b) => (a[0] < b[0] ? 1 : -1)).slice(0, 20);
    // The credit grade (GET …/credit: from the bills, with the grade run's
    // record of the month) and the forecast (GET …/forecast), asked for
    // only when the bills allow them: a grade needs a bill, a forecast 12
    // months from the first to the last month with consumption.
    const bl = bills.ok ? bills.ok.items : [];
    const used = bl.filter((b) => b.kwh > 0).map((b) => b.period).sort();
    const span = used.length ? GC.range(used[0], used[used.length - 1]).length : 0;
    const [credit, fcast] = await Promise.all([bl.length ? settle(api('/api/v1/customers/' + enc(id) + '/credit')) : null,
      span >= 12 ? settle(api('/api/v1/customers/' + enc(id) + '/forecast?horizon=12')) : null]);
    for (const r of [credit, fcast]) if (r && !r.err && r.ok == null) r.err = new Error(GC.tr('未返回结果', 'the route answered nothing')); // a 200 without a body
    // What the churn risk read beyond the bills (GET …/credit's
    // churn_inputs): complaints, 减容 and 暂停 (capacity_changes records),
    // the contract's end, and where each came from (tag: old data's tags).
    function churnInputs(ci) {
      const parts = [GC.tr('近' + ci.complaint_months + '个月投诉 ' + ci.complaints + ' 次', ci.complaints + ' complaints in ' + ci.complaint_months + ' months')];
      if (ci.capacity_reduced) parts.push(GC.tr('减容', 'capacity reduced'));
      if (ci.suspended) parts.push(GC.tr('暂停', 'suspended'));
      if (ci.contract_end) parts.push(GC.tr('合同到期 ' + ci.contract_end + '（剩 ' + ci.contract_months_left + ' 个月）', 'contract ends ' + ci.contract_end + ' (' + ci.contract_months_left + ' months left)'));
      return parts.join('；') + (ci.sources.length ? GC.tr('　来源：', '   from: ') + ci.sources.join('、') : '');
    }
    const fcDiv = el('div', { class: 'chart', id: 'chart-customer-forecast' });
    const creditPanel = el('div', { class: 'panel', id: 'credit' }, !credit ? el('p', { class: 'muted' }, GC.tr('尚无账单，无法评价', 'No bills yet: nothing to grade'))
      : credit.err ? el('p', { class: 'error' }, '无法读取：' + credit.err.message)
        : kv([[GC.tr('信用等级', 'Grade'), el('strong', { id: 'credit-grade' }, credit.ok.grade), GC.tr('评分', 'Score'), String(credit.ok.score)],
          [GC.tr('违约概率', 'Default probability'), pct(credit.ok.default_probability)], [GC.tr('评价月份', 'As of'), credit.ok.as_of + (credit.ok.stored ? GC.tr('（已入库）', ' (stored)') : '')],
          [GC.tr('流失风险', 'Churn risk'), credit.ok.churn_risk == null ? '—' : pct(credit.ok.churn_risk)],
          ...(credit.ok.churn_inputs ? [[GC.tr('流失依据', 'Churn inputs'), el('span', { id: 'churn-inputs' }, churnInputs(credit.ok.churn_inputs))]] : []),
          [GC.tr('评价依据', 'Reasons'), credit.ok.reasons.length ? credit.ok.reasons.map(GC.reason).join('；') : GC.tr('无扣分项', 'nothing lowered the score')],
          [GC.tr('加分项', 'Strengths'), credit.ok.strengths && credit.ok.strengths.length ? credit.ok.strengths.map(GC.reason).join('；') : GC.tr('无', 'none')],
          [GC.tr('建议结算方式', 'Payment'), credit.ok.payment], [GC.tr('建议担保', 'Security'), credit.ok.security], [GC.tr('规则版本', 'Rules'), credit.ok.rules]]
          .map((p) => (p.length === 4 ? [[p[0], p[1]], [p[2], p[3]]] : [p])).flat(), { id: 'credit-kv' }));
    const fcPanel = !fcast ? el('p', { class: 'muted', id: 'forecast-none' }, GC.tr('电量历史不足12个月，暂不预测', 'Under 12 months of consumption: no forecast'))
      : fcast.err ? el('p', { class: 'error' }, '无法读取：' + fcast.err.message)
        : el('div', { class: 'panel', id: 'customer-forecast' }, el('p', { class: 'muted' }, GC.tr('方法 ', 'Method ') + fcast.ok.method + GC.tr('，预测起点 ', ', origin ') + fcast.ok.origin),
          el('table', { id: 'forecast-totals' }, el('thead', {}, el('tr', {}, [GC.tr('期间', 'Period'), GC.tr('电量', 'Energy'), GC.tr('实际/预测月数', 'Actual/forecast months'), GC.tr('80%区间', '80% band')].map((h) => el('th', {}, h)))),
            el('tbody', {}, fcast.ok.quarters.concat(fcast.ok.years).map((t) => el('tr', { 'data-period': t.period }, el('td', {}, t.period), el('td', { class: 'num' }, kwh(t.kwh)),
              el('td', {}, t.known_months + ' / ' + t.forecast_months), el('td', {}, num(t.lo80) + '–' + num(t.hi80)))))));

    const canEdit = mayWrite(c.region);

    show(...[
      el('div', { class: 'crumbs' }, el('a', { href: '#/overview/' + c.region }, '区域 ' + c.region), el('span', {}, '›'),
        el('a', { href: '#/customers?region=' + c.region }, '客户'), el('span', {}, '›'), el('span', {}, c.account_no)),
      el('h1', { id: 'page-title' }, c.name),
      el('div', { class: 'toolbar' }, canEdit ? el('a', { href: '#/customer/' + c.id + '/edit', class: 'button', id: 'edit-customer' }, '编辑') : null,
        el('span', { class: 'muted' }, '版本 ' + c.version + ' · ' + (c.updated_by || '') + ' 于 ' + when(c.updated_at) + ' 更新')),
      el('div', { class: 'panel', id: 'profile' }, kv([['户号', c.account_no], ['类别', label('category', c.category)], ['供电电压', c.voltage_kv + ' 千伏'],
        ['合同容量', num(c.capacity_kva) + ' 千伏安'], ['行业', c.industry], ['地址', c.address], ['电话', c.phone], ['区域', c.region],
        ['网格', c.grid], ['线路', c.feeder], ['台区', c.transformer_area], ['状态', label('status', c.status)], ['合同到期', c.contract_end], ['标签', (c.tags || []).join('、')]])),
      el('h2', {}, '电量、电费与分级'),
      el('div', { class: 'panel', id: 'figures' }, cons.err ? el('p', { class: 'error' }, '无法读取：' + cons.err.message) : kv([
        ['近12个月电量', kwh(cons.ok.annual_kwh)], ['应收电费', yuan(cons.ok.billed)], ['实收电费', yuan(cons.ok.paid)],
        ['欠费', yuan(cons.ok.arrears)], ['平均电价', cons.ok.mean_price ? num(cons.ok.mean_price, 3) + ' 元/千瓦时' : '—'],
        ['峰/平/谷', [pct(cons.ok.peak_share), pct(cons.ok.flat_share), pct(cons.ok.valley_share)].join(' / ')],
        ['近3个月趋势', cons.ok.trend ? (cons.ok.trend >= 0 ? '+' : '') + (cons.ok.trend * 100).toFixed(1) + '%' : '—'],
        ['分级', cl ? label('class', cl.class) + ' · ' + label('grade', cl.grade) : '—'],
        ['分级依据', cl && cl.reasons && cl.reasons.length ? cl.reasons.join('；') : '未达大客户标准']], { id: 'class' })),
      el('div', { class: 'charts' }, chartDiv, tou),
      el('h2', {}, GC.tr('信用评价与结算建议', 'Credit grade and payment recommendation')), creditPanel,
      el('h2', {}, GC.tr('电量预测', 'Consumption forecast')), fcast && fcast.ok ? el('div', { class: 'charts' }, fcDiv, fcPanel) : fcPanel,
      el('h2', {}, '金牌客户经理'),
      el('div', { class: 'panel', id: 'gold' }, gold.err ? el('p', { class: 'error' }, '无法读取：' + gold.err.message)
        : activeGold.length === 0 ? el('p', { class: 'muted' }, '未指定')
          : kv([['经理', staff && staff.ok ? staff.ok.name + '（' + (staff.ok.phone || staff.ok.staff_no || '') + '）' : activeGold[0].staff_id],
            ['自', activeGold[0].from], ['备注', activeGold[0].note]])),
      section('服务方案', 'plans', plans, ['方案', '事项', '未完成', '最近到期'], (p) => {
        const its = items(p); const open = its.filter((i) => i.status !== 'done');
        return [p.title, String(its.length), String(open.length), open.map((i) => i.due).sort()[0] || '—'];
      }),
      el('h2', {}, '服务备忘'),
      memos.err ? el('p', { class: 'error' }, '无法读取：' + memos.err.message)
        : (memos.ok.items.length === 0 ? el('p', { class: 'muted' }, '无') : el('div', { class: 'panel' }, el('table', { id: 'memos' },
          el('thead', {}, el('tr', {}, ['日期', '类别', '内容'].map((h) => el('th', {}, h)))),
          el('tbody', {}, memos.ok.items.flatMap(memoLines).map((l) => el('tr', {}, l.map((v) => el('td', {}, v)))))))),
      section('报装项目', 'projects', projects, ['项目', '类型', '容量（千伏安）', '状态', '受理'], (x) => [x.title || x.id, x.kind === 'capacity_increase' ? '增容' : '新装',
        num(x.capacity_kva), x.status || '', when(x.accepted_at)]),
      section('减容与暂停', 'capacity-changes', capChanges, ['类型', '容量（千伏安）', '起', '止', '说明'], (x) => [x.kind === 'suspension' ? '暂停' : '减容',
        num(x.from_kva) + ' → ' + num(x.to_kva), x.start_on, x.end_on || '—', x.note || '']),
      section('重点项目', 'key-projects', keyProjects, ['项目', '进度', '状态'], (x) => [x.name, x.progress + '%', x.status]),
      section('工单', 'work-orders', wos, ['受理时间', '类型', '主题', '状态'], (x) => [when(x.received_at), x.kind, x.subject, label('woState', x.state)]),
      section('联系人', 'contacts', contacts, ['姓名', '职务', '电话', '邮箱'], (x) => [x.name + (x.primary ? '（主）' : ''), x.title || '', x.phone || '', x.email || '']),
      section('走访与联系记录', 'visits', visits, ['时间', '方式', '摘要', '结果'], (x) => [when(x.at), x.kind, x.summary, x.outcome || '']),
    ].flat(Infinity)); // a section is a heading and its table
    if (bills.ok) {
      const bs = bills.ok.items.slice().sort((a, b) => (a.period < b.period ? -1 : 1)).slice(-24);
      chart(chartDiv, {
        title: { text: '近24个月电量与电费', textStyle: { fontSize: 14 } }, tooltip: { trigger: 'axis' }, legend: { top: 0, right: 0 },
        grid: { left: 70, right: 70, top: 40, bottom: 30 }, xAxis: { type: 'category', data: bs.map((b) => b.period) },
        yAxis: [{ type: 'value', name: '千瓦时', axisLabel: { formatter: (v) => num(v, 0) } }, { type: 'value', name: '元', axisLabel: { formatter: (v) => num(v, 0) } }],
        series: [{ name: '电量', type: 'bar', data: bs.map((b) => b.kwh) }, { name: '电费', type: 'line', yAxisIndex: 1, data: bs.map((b) => b.billed) },
          { name: '欠费', type: 'line', yAxisIndex: 1, data: bs.map((b) => Math.max(0, (b.billed || 0) - (b.paid || 0))) }],
      });
    }
    if (fcast && fcast.ok) {
      const bs = bl.slice().sort((a, b) => (a.period < b.period ? -1 : 1)).slice(-24);
      const axis = bs.map((b) => b.period).concat(fcast.ok.months.map((m) => m.month).filter((m) => !bs.some((b) => b.period === m)));
      const f = Object.fromEntries(fcast.ok.months.map((m) => [m.month, m]));
      chart(fcDiv, {
        title: { text: GC.tr('电量：实际与未来12个月预测', 'kWh: actual and the next 12 months'), textStyle: { fontSize: 14 } }, tooltip: { trigger: 'axis' }, legend: { top: 0, right: 0 },
        grid: { left: 70, right: 20, top: 40, bottom: 30 }, xAxis: { type: 'category', data: axis }, yAxis: { type: 'value', axisLabel: { formatter: (v) => num(v, 0) } },
        series: [{ name: GC.tr('实际', 'Actual'), type: 'line', data: axis.map((m) => { const b = bs.find((x) => x.period === m); return b ? b.kwh : null; }) },
          { name: GC.tr('预测', 'Forecast'), type: 'line', lineStyle: { type: 'dashed' }, data: axis.map((m) => (f[m] ? f[m].kwh : null)) },
          { name: GC.tr('95%上限', '95% high'), type: 'line', symbol: 'none', lineStyle: { type: 'dotted', color: '#9ecae1' }, data: axis.map((m) => (f[m] ? f[m].hi95 : null)) },
          { name: GC.tr('95%下限', '95% low'), type: 'line', symbol: 'none', lineStyle: { type: 'dotted', color: '#9ecae1' }, data: axis.map((m) => (f[m] ? f[m].lo95 : null)) }],
      });
    }
    if (cons.ok) {
      chart(tou, { title: { text: '峰平谷占比（近12个月）', textStyle: { fontSize: 14 } }, tooltip: { trigger: 'item' },
        series: [{ type: 'pie', radius: ['35%', '65%'], top: 20, data: [{ name: '峰', value: cons.ok.peak_share }, { name: '平', value: cons.ok.flat_share }, { name: '谷', value: cons.ok.valley_share }] }] });
    }
  }

  // ---------- create and edit ----------
  // The form's fields: [field, label, kind, required]. Every error the API
  // answers names its field (400 {"error":{"field"}}); it is shown next to
  // that field (#err-<field>), anything else above the form (#form-error).
  const FIELDS = [['account_no', '户号', 'text', true], ['name', '名称', 'text', true], ['category', '用电类别', 'category', true],
    ['voltage_kv', '供电电压（千伏）', 'voltage', true], ['capacity_kva', '合同容量（千伏安）', 'number', false], ['industry', '行业', 'text'],
    ['address', '地址', 'text'], ['phone', '电话', 'text'], ['region', '区域代码', 'text', true], ['grid', '网格', 'text'],
    ['feeder', '线路', 'text'], ['transformer_area', '台区', 'text'], ['contract_end', '合同到期日（YYYY-MM-DD）', 'text'], ['tags', '标签（逗号分隔）', 'tags'], ['status', '状态', 'status']];

  function customerForm(c, onSubmit) {
    const inputs = {}; const errs = {};
    const general = el('p', { class: 'error', id: 'form-error' });
    const control = ([f, , kind, req]) => {
      const v = c[f];
      switch (kind) {
        case 'category': return el('select', { name: f, id: 'f-' + f }, el('option', { value: '' }, '请选择'),
          Object.entries(L.category).map(([k, t]) => el('option', { value: k, selected: v === k }, t)));
        case 'status': return el('select', { name: f, id: 'f-' + f }, Object.entries(L.status).map(([k, t]) => el('option', { value: k, selected: (v || 'active') === k }, t)));
        case 'voltage': return el('select', { name: f, id: 'f-' + f }, el('option', { value: '' }, '请选择'),
          VOLTAGES.map((k) => el('option', { value: String(k), selected: v === k }, String(k))));
        case 'tags': return el('input', { name: f, id: 'f-' + f, value: (v || []).join('，'), size: 40 });
        default: return el('input', { name: f, id: 'f-' + f, value: v == null ? '' : String(v), size: kind === 'number' ? 12 : 40, required: !!req, inputmode: kind === 'number' ? 'decimal' : null });
      }
    };
    const form = el('form', { class: 'customer-form', id: 'customer-form', novalidate: true },
      general,
      FIELDS.map((fd) => el('div', { class: 'field', 'data-field': fd[0] },
        el('label', { for: 'f-' + fd[0] }, fd[1] + (fd[3] ? ' *' : '')), inputs[fd[0]] = control(fd),
        errs[fd[0]] = el('span', { class: 'error field-error', id: 'err-' + fd[0] }))),
      el('div', { class: 'toolbar' }, el('button', { type: 'submit', id: 'save' }, '保存'), ' ',
        el('a', { href: c.id ? '#/customer/' + c.id : '#/customers' }, '取消')));
    // values answers the body: numbers as numbers when they parse (else as
    // typed, for the API to name the field), tags as a list.
    const values = () => {
      const out = {};
      for (const [f, , kind] of FIELDS) {
        const raw = inputs[f].value.trim();
        if (kind === 'tags') out[f] = raw ? raw.split(/[,，、]/).map((s) => s.trim()).filter(Boolean) : [];
        else if (kind === 'number' || kind === 'voltage') out[f] = raw === '' ? (kind === 'number' ? 0 : raw) : (isFinite(Number(raw)) ? Number(raw) : raw);
        else out[f] = raw;
      }
      if (out.voltage_kv === '') delete out.voltage_kv; // required: the API names it
      return out;
    };
    const clear = () => {
      general.replaceChildren();
      for (const f of Object.keys(errs)) { errs[f].textContent = ''; inputs[f].classList.remove('invalid'); inputs[f].removeAttribute('aria-invalid'); }
    };
    const fieldOf = (f) => (f || '').replace(/\[\d+\]$/, ''); // tags[3] → tags
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clear();
      const btn = form.querySelector('#save'); btn.disabled = true;
      try {
        await onSubmit(values());
      } catch (e) {
        if (e.status === 401) return;
        const f = fieldOf(e.field);
        if (e.status === 409 && e.field === 'version') {
          general.replaceChildren(el('span', { id: 'conflict' }, '保存失败：该客户已被他人修改（' + e.message + '）。请重新加载，看过最新内容后再修改。'), ' ',
            el('button', { type: 'button', id: 'reload', onclick: () => route() }, '重新加载'));
        } else if (f && errs[f]) {
          errs[f].textContent = e.message;
          inputs[f].classList.add('invalid'); inputs[f].setAttribute('aria-invalid', 'true'); inputs[f].focus();
        } else {
          general.textContent = (e.status === 403 ? '无权保存：' : '保存失败：') + e.message + (e.field ? '（' + e.field + '）' : '');
        }
      } finally {
        btn.disabled = false;
      }
    });
    return form;
  }

  async function createPage(show) {
    const region = who().node.region || homeRegion();
    const form = customerForm({ region, status: 'active' }, async (body) => {
      const rec = await api('/api/v1/customers', { method: 'POST', body });
      location.hash = '#/customer/' + rec.id;
    });
    show(el('div', { class: 'crumbs' }, el('a', { href: '#/customers' }, '客户'), el('span', {}, '›'), el('span', {}, '新建')),
      el('h1', { id: 'page-title' }, '新建客户'),
      mayWrite('') ? form : el('p', { class: 'error', id: 'page-error' }, '无权新建客户：' + label('role', who().user.role) + '只能查看。'));
  }

  async function editPage(show, id) {
    const c = await api('/api/v1/customers/' + enc(id));
    const form = customerForm(c, async (body) => {
      const patch = { version: c.version };
      for (const [f] of FIELDS) {
        const was = c[f] == null ? (f === 'tags' ? [] : '') : c[f];
        if (JSON.stringify(body[f]) !== JSON.stringify(was)) patch[f] = (body[f] === '' || (Array.isArray(body[f]) && !body[f].length)) ? null : body[f];
      }
      await api('/api/v1/customers/' + enc(id), { method: 'PATCH', body: patch });
      location.hash = '#/customer/' + id;
    });
    show(el('div', { class: 'crumbs' }, el('a', { href: '#/customers' }, '客户'), el('span', {}, '›'),
      el('a', { href: '#/customer/' + c.id }, c.account_no), el('span', {}, '›'), el('span', {}, '编辑')),
    el('h1', { id: 'page-title' }, '编辑客户：' + c.name),
    el('p', { class: 'muted', id: 'edit-version' }, '正在编辑版本 ' + c.version + '。'),
    mayWrite(c.region) ? form : el('p', { class: 'error', id: 'page-error' }, '无权编辑：只有本区域的管理员、经理和客户经理可以修改客户。'));
  }

  GC.page('customers', (show, parts, params) => (parts[1] === 'new' ? createPage(show) : customers(show, params)));
  GC.page('customer', (show, parts) => (parts[2] === 'edit' ? editPage(show, parts[1]) : customer(show, parts[1])), 'customers');
})();
