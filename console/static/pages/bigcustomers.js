// gridcrm console page: 大客户 big customers — classification, the 20/80
// Pareto chart, the pool and its grid cells against the ±5% band, gold
// managers and the monthly bulletins (see console/doc.go; helpers in
// core.js). Reads /api/v1/classification, /reports/pareto, /grid_plans,
// /pool_entries, /gold_assignments, /bulletins (generate, HTML, PDF).
'use strict';
(function () {
  const { el, num, kwh, yuan, pct, when, label, api, chart, homeRegion } = window.GC;

  const BAND = 0.05;
  const POOL = { candidate: '候选', admitted: '已入池', rejected: '未通过', exited: '已出池' };
  const settle = (p) => p.then((v) => ({ ok: v }), (e) => ({ err: e }));
  const failed = (r, what) => el('p', { class: 'error' }, '无法读取' + what + '：' + r.err.message);
  const table = (id, heads, rows, empty) => (rows.length === 0 ? el('p', { class: 'muted', id }, empty)
    : el('div', { class: 'panel' }, el('table', { id }, el('thead', {}, el('tr', {}, heads.map((h) => el('th', {}, h)))), el('tbody', {}, rows))));
  const signed = (r) => (r >= 0 ? '+' : '') + (r * 100).toFixed(2) + '%';

  // fetchFile reads a binary or HTML answer of the API with the session
  // (bearer token or cookie, whichever core.js keeps) as a Blob.
  async function fetchFile(path, type) {
    const s = GC.session() || {};
    const headers = s.token ? { Authorization: 'Bearer ' + s.token } : {};
    const resp = await fetch(path, { headers, credentials: 'same-origin' });
    if (!resp.ok) {
      let msg = 'HTTP ' + resp.status;
      try { const b = await resp.json(); if (b && b.error) msg = b.error.message; } catch (_) { /* not JSON */ }
      throw new GC.APIError(resp.status, { error: { message: msg } });
    }
    const raw = await resp.blob();
    return type ? new Blob([raw], { type }) : raw;
  }
  // openBlob shows a blob in a new tab (HTML) or saves it (download name).
  function openBlob(blob, download) {
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, target: '_blank', rel: 'noopener', download: download || null });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  function lastMonth() {
    const d = new Date();
    const p = new Date(d.getFullYear(), d.getMonth() - 1, 1);
    return p.getFullYear() + '-' + String(p.getMonth() + 1).padStart(2, '0');
  }

  async function bigcustomers(show, params) {
    const region = params.get('region') || homeRegion();
    const scope = 'region=' + encodeURIComponent(region) + '&scope=subtree';
    const [ov, cls, par, plans, pool, gold, buls] = await Promise.all([
      settle(api('/api/v1/stats/overview?consistency=stale&region=' + encodeURIComponent(region))),
      api('/api/v1/classification?' + scope + '&class=big&limit=50'),
      settle(api('/api/v1/reports/pareto?' + scope + '&top=30')),
      settle(api('/api/v1/grid_plans?' + scope + '&limit=50')),
      settle(api('/api/v1/pool_entries?' + scope + '&limit=50')),
      settle(api('/api/v1/gold_assignments?' + scope + '&status=active&limit=50')),
      settle(api('/api/v1/bulletins?' + scope + '&limit=24')),
    ]);
    const names = {};
    if (ov.ok) [ov.ok, ...(ov.ok.path || []), ...(ov.ok.regions || []), ...(ov.ok.children || [])].forEach((r) => { if (r && r.name) names[r.region] = r.name; });
    const rn = (code) => (names[code] ? names[code] + ' ' : '') + code;
    const cust = {};
    cls.items.forEach((c) => { cust[c.customer_id] = c; });
    const cn = (id) => (cust[id] ? el('a', { href: '#/customer/' + id }, cust[id].name + '（' + cust[id].account_no + '）') : el('a', { href: '#/customer/' + id }, id));

    // ---- staff names, for the managers listed (one read each, at most 30) ----
    const staffIDs = new Set();
    if (gold.ok) gold.ok.items.forEach((g) => g.staff_id && staffIDs.add(g.staff_id));
    if (pool.ok) pool.ok.items.forEach((p) => p.front_manager_id && staffIDs.add(p.front_manager_id));
    if (plans.ok) plans.ok.items.forEach((p) => (p.cells || []).forEach((c) => c.front_manager_id && staffIDs.add(c.front_manager_id)));
    const staff = {};
    await Promise.all([...staffIDs].slice(0, 30).map((id) => api('/api/v1/staff/' + encodeURIComponent(id)).then((s) => { staff[id] = s.name; }, () => {})));
    const sn = (id) => (id ? staff[id] || id : '—');

    // ---- classification ----
    const counts = cls.counts || {};
    const n = (c, g) => ((counts[c] || {})[g] || 0);
    const cards = el('div', { class: 'cards', id: 'class-cards' },
      [['大客户', n('big', 'core') + n('big', 'key') + n('big', 'general'), '核心 ' + n('big', 'core') + ' · 重点 ' + n('big', 'key') + ' · 一般 ' + n('big', 'general')],
        ['普通客户', Object.values(counts.ordinary || {}).reduce((a, b) => a + b, 0), '按近12个月（' + (cls.window || []).join(' 至 ') + '）'],
        ['二八：80% 电量来自', par.ok ? par.ok.kwh.customers_for_80_percent + ' 户' : '—', par.ok ? '占客户 ' + pct(par.ok.kwh.customer_share) + '，前20%客户电量占 ' + pct(par.ok.kwh.top_20_percent_share) : ''],
        ['二八：80% 电费来自', par.ok ? par.ok.revenue.customers_for_80_percent + ' 户' : '—', par.ok ? '占客户 ' + pct(par.ok.revenue.customer_share) + '，前20%客户电费占 ' + pct(par.ok.revenue.top_20_percent_share) : ''],
      ].map(([l, v, sub]) => el('div', { class: 'card' }, el('div', { class: 'label' }, l), el('div', { class: 'value' }, String(v)), el('div', { class: 'sub' }, sub))));
    const clsRows = cls.items.map((c) => el('tr', { 'data-id': c.customer_id },
      el('td', {}, c.account_no), el('td', {}, el('a', { href: '#/customer/' + c.customer_id }, c.name)), el('td', {}, rn(c.region)),
      el('td', {}, label('grade', c.grade)), el('td', { class: 'num' }, kwh(c.figures.annual_kwh)), el('td', { class: 'num' }, yuan(c.figures.monthly_bill)),
      el('td', { class: 'num' }, String(c.figures.voltage_kv)), el('td', {}, (c.reasons || []).join('；'))));
    const paretoDiv = el('div', { class: 'chart', id: 'chart-pareto' });
    const gridDiv = el('div', { class: 'chart', id: 'chart-grid' });

    // ---- grid cells of the chosen region's plan ----
    let gridPart, plan = null;
    if (plans.err) gridPart = failed(plans, '网格划分');
    else if (plans.ok.items.length === 0) gridPart = el('p', { class: 'muted', id: 'grid' }, '尚无网格划分（POST /api/v1/grid_plans/divide）。');
    else {
      plan = plans.ok.items.find((p) => p.region === params.get('plan')) || plans.ok.items[0];
      const sel = el('select', { id: 'plan', name: 'plan' }, plans.ok.items.map((p) => el('option', { value: p.region, selected: p === plan }, rn(p.region) + '（' + p.k + ' 格）')));
      sel.addEventListener('change', () => { const q = new URLSearchParams(params); q.set('plan', sel.value); location.hash = '#/bigcustomers?' + q.toString(); });
      const cells = plan.cells || [];
      const mk = cells.reduce((a, c) => a + c.kwh, 0) / (cells.length || 1), mc = cells.reduce((a, c) => a + c.count, 0) / (cells.length || 1);
      plan.devs = cells.map((c) => ({ code: c.code, k: mk ? (c.kwh - mk) / mk : 0, n: mc ? (c.count - mc) / mc : 0 }));
      gridPart = [
        el('div', { class: 'toolbar' }, el('label', {}, '区域 ', sel),
          el('span', { id: 'grid-summary' }, '电量最大偏差 ' + pct(plan.max_kwh_deviation) + '，户数最大偏差 ' + pct(plan.max_count_deviation) +
            '（轮流分配为 ' + pct(plan.round_robin_kwh_deviation) + ' / ' + pct(plan.round_robin_count_deviation) + '）；基准日 ' + plan.as_of)),
        table('grid', ['网格', '前端经理', '户数', '户数偏差', '年电量', '电量偏差', '±5% 以内'], cells.map((c, i) => {
          const d = plan.devs[i], ok = Math.abs(d.k) <= BAND + 1e-9 && Math.abs(d.n) <= BAND + 1e-9;
          return el('tr', { 'data-cell': c.code, class: ok ? '' : 'out' }, el('td', {}, c.code), el('td', {}, sn(c.front_manager_id)),
            el('td', { class: 'num' }, String(c.count)), el('td', { class: 'num' }, signed(d.n)), el('td', { class: 'num' }, kwh(c.kwh)),
            el('td', { class: 'num' }, signed(d.k)), el('td', {}, ok ? '是' : '否'));
        }), '没有网格。'),
        gridDiv,
      ];
    }

    // ---- pool and gold managers ----
    const poolPart = pool.err ? failed(pool, '客户池') : table('pool', ['客户', '状态', '前端经理', '评估'], pool.ok.items.map((p) => el('tr', { 'data-id': p.id },
      el('td', {}, cn(p.customer_id)), el('td', {}, POOL[p.status] || p.status), el('td', {}, sn(p.front_manager_id)),
      el('td', {}, p.assessment ? '评分 ' + p.assessment.score + '，信用 ' + (p.assessment.credit || '—') + '，' + kwh(p.assessment.annual_kwh) + (p.assessment.reason ? '，' + p.assessment.reason : '') : '—'))), '客户池为空。');
    const goldPart = gold.err ? failed(gold, '金牌客户经理') : table('gold', ['客户/项目', '金牌客户经理', '起始', '备注'], gold.ok.items.map((g) => el('tr', { 'data-id': g.id },
      el('td', {}, g.customer_id ? cn(g.customer_id) : '项目 ' + g.project_id), el('td', {}, sn(g.staff_id)), el('td', {}, g.from || '—'), el('td', {}, g.note || ''))), '没有在任的金牌客户经理。');

    // ---- bulletins ----
    const role = ((GC.session() || {}).user || {}).role;
    const period = el('input', { id: 'bulletin-period', name: 'period', value: lastMonth(), size: 8, pattern: '\\d{4}-\\d{2}' });
    const bmsg = el('span', { id: 'bulletin-msg', role: 'status' });
    const gen = el('form', { class: 'toolbar', id: 'bulletin-generate' }, el('label', {}, '月份 ', period), el('button', { type: 'submit' }, '生成简报'), bmsg);
    gen.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      bmsg.className = 'muted'; bmsg.textContent = '正在生成…';
      try {
        const b = await api('/api/v1/bulletins/generate', { method: 'POST', body: { period: period.value.trim() } });
        bmsg.className = 'ok'; bmsg.textContent = '已生成：' + b.title;
        setTimeout(GC.route, 400);
      } catch (e) {
        bmsg.className = 'error'; bmsg.textContent = '未能生成：' + e.message;
      }
    });
    const bulPart = buls.err ? failed(buls, '工作简报') : table('bulletins', ['月份', '标题', '区域', '项目', '逾期环节', '要点', '生成', ''], buls.ok.items.map((b) => {
      const out = el('span', { class: 'error' });
      const act = async (kind) => {
        out.textContent = '';
        try {
          if (kind === 'html') openBlob(await fetchFile('/api/v1/bulletins/' + encodeURIComponent(b.id) + '/html', 'text/html'));
          else openBlob(await fetchFile('/api/v1/bulletins/' + encodeURIComponent(b.id) + '/pdf', 'application/pdf'), 'bulletin-' + b.region + '-' + b.period + '.pdf');
        } catch (e) { out.textContent = e.message; }
      };
      return el('tr', { 'data-id': b.id }, el('td', {}, b.period), el('td', {}, b.title), el('td', {}, rn(b.region)),
        el('td', { class: 'num' }, String(b.projects)), el('td', { class: 'num' }, String(b.overdue_stages)),
        el('td', {}, (b.highlights || []).slice(0, 3).join('；') + ((b.highlights || []).length > 3 ? '…' : '')), el('td', {}, when(b.created_at)),
        el('td', {}, el('button', { type: 'button', class: 'view-html', onclick: () => act('html') }, '查看'), ' ',
          el('button', { type: 'button', class: 'download-pdf', onclick: () => act('pdf') }, '下载 PDF'), out));
    }), '尚无工作简报。');

    // 导出Excel (core.js): every row the list's filters match, with the same filters.
    const xls = (path, extra, name) => (GC.exportButton ? el('div', { class: 'toolbar' }, GC.exportButton(path, Object.assign({ region, scope: 'subtree' }, extra), name)) : null);
    // show() takes nodes only (replaceChildren): drop the parts a role or the data leaves out.
    const showAll = (...xs) => show(...xs.flat().filter((x) => x != null && x !== false));
    showAll(
      el('h1', { id: 'page-title' }, '大客户 · ' + rn(region)),
      el('p', { class: 'muted' }, '分级按 ' + cls.day + ' 在用的分级规则计算（近12个月电量、月均电费、电压等级、标签）。'),
      cards,
      el('div', { class: 'grid2' }, paretoDiv, el('div', {}, el('h2', {}, '网格划分（±5% 均衡带）'), gridPart)),
      el('h2', {}, '大客户名单（' + cls.matched + ' 户' + (cls.matched > cls.items.length ? '，显示前 ' + cls.items.length + ' 户' : '') + '）'),
      xls('/api/v1/classification', { class: 'big' }, '大客户分级'),
      table('classification', ['户号', '名称', '区域', '等级', '近12个月电量', '月均电费', '电压（千伏）', '依据'], clsRows, '没有大客户。'),
      el('h2', {}, '客户池'), xls('/api/v1/pool_entries', {}, '客户池'), poolPart,
      el('h2', {}, '金牌客户经理'), xls('/api/v1/gold_assignments', { status: 'active' }, '金牌客户经理'), goldPart,
      el('h2', {}, '工作简报'), role === 'admin' || role === 'manager' ? gen : null, xls('/api/v1/bulletins', {}, '工作简报'), bulPart,
    );

    // Pareto: the big customers by kWh, bars, with the cumulative share of the region's total.
    const top = cls.items.slice().sort((a, b) => b.figures.annual_kwh - a.figures.annual_kwh).slice(0, 30);
    const total = par.ok ? par.ok.kwh.total : top.reduce((a, c) => a + c.figures.annual_kwh, 0);
    let cum = 0;
    chart(paretoDiv, {
      title: { text: '二八分析：前 ' + top.length + ' 户大客户电量与累计占比', textStyle: { fontSize: 14 } }, tooltip: { trigger: 'axis' }, legend: { bottom: 0 },
      grid: { left: 70, right: 50, top: 50, bottom: 90 },
      xAxis: { type: 'category', data: top.map((c) => c.name), axisLabel: { rotate: 40, interval: 0, fontSize: 10 } },
      yAxis: [{ type: 'value', name: '千瓦时', axisLabel: { formatter: (v) => num(v, 0) } }, { type: 'value', name: '累计 %', max: 100 }],
      series: [{ name: '年电量', type: 'bar', data: top.map((c) => c.figures.annual_kwh) },
        { name: '累计占比', type: 'line', yAxisIndex: 1, data: top.map((c) => { cum += c.figures.annual_kwh; return total ? Math.round(cum / total * 1000) / 10 : null; }),
          markLine: { symbol: 'none', data: [{ yAxis: 80, name: '80%' }] } }],
    });
    if (plan) {
      chart(gridDiv, {
        title: { text: '各网格偏离均值（±5% 均衡带）', textStyle: { fontSize: 14 } }, tooltip: { trigger: 'axis' }, legend: { bottom: 0 },
        grid: { left: 50, right: 20, top: 50, bottom: 50 }, xAxis: { type: 'category', data: plan.devs.map((d) => d.code) },
        yAxis: { type: 'value', name: '%', min: (v) => Math.min(-10, Math.floor(v.min)), max: (v) => Math.max(10, Math.ceil(v.max)) },
        series: [{ name: '电量偏差', type: 'bar', data: plan.devs.map((d) => Math.round(d.k * 10000) / 100),
          markArea: { silent: true, itemStyle: { color: 'rgba(30,132,73,0.12)' }, data: [[{ yAxis: -5 }, { yAxis: 5 }]] } },
        { name: '户数偏差', type: 'bar', data: plan.devs.map((d) => Math.round(d.n * 10000) / 100) }],
      });
    }
  }

  GC.page('bigcustomers', (show, parts, params) => bigcustomers(show, params));
})();
