// gridcrm console page: 流程 processes — supervision, warnings, KPIs, the
// work-order board and outages (see console/doc.go; helpers in core.js).
// Reads /api/v1/supervision (a page of 50, with names), /supervision/warnings,
// /kpi/projects|work_orders|outages, /work_orders and /outages filtered by
// state, and /outages/{id}/affected on demand.
'use strict';
(function () {
  const { el, num, pct, when, label, api, chart, homeRegion } = window.GC;

  const STEP = { acceptance: '受理', site_survey: '现场查勘', supply_plan: '供电方案答复', design_review: '图纸审查',
    intermediate_inspection: '中间检查', completion_acceptance: '竣工验收', energisation: '装表接电',
    contact: '联系时限', arrival: '到达现场时限', restore: '修复时限', answer: '答复时限' };
  const TYPE = { project_stage: '报装环节', work_order: '工单时限' };
  const LEVEL = { county: '县级', city: '地市级', province: '省级' };
  const WOKIND = { fault_repair: '故障报修', consultation: '咨询', complaint: '投诉', report: '举报', suggestion: '建议', opinion: '意见',
    praise: '表扬', service_application: '服务申请' };
  const OPEN = ['received', 'dispatched', 'accepted', 'on_site', 'done', 'revisited'];
  const OSTATUS = { scheduled: '待执行', in_progress: '停电中', done: '已结束', cancelled: '已取消' };
  const PAGE = 50;

  const table = (id, heads, rows, empty) => (rows.length === 0 ? el('p', { class: 'muted', id }, empty)
    : el('div', { class: 'panel' }, el('table', { id }, el('thead', {}, el('tr', {}, heads.map((h) => el('th', {}, h)))), el('tbody', {}, rows))));
  const settle = (p) => p.then((v) => ({ ok: v }), (e) => ({ err: e }));
  const failed = (r, what) => el('p', { class: 'error' }, '无法读取' + what + '：' + r.err.message);

  // month boundaries (YYYY-MM-DD) of the last n months, this one included.
  function months(n) {
    const d = new Date();
    const out = [];
    for (let i = n - 1; i >= 0; i--) {
      const a = new Date(d.getFullYear(), d.getMonth() - i, 1), b = new Date(d.getFullYear(), d.getMonth() - i + 1, 1);
      const f = (x) => x.getFullYear() + '-' + String(x.getMonth() + 1).padStart(2, '0') + '-01';
      out.push({ name: f(a).slice(0, 7), from: f(a), to: f(b) });
    }
    return out;
  }

  async function processes(show, params) {
    const region = params.get('region') || homeRegion();
    const level = params.get('level') || '';
    const offset = Math.max(0, parseInt(params.get('offset') || '0', 10) || 0);
    const scope = 'region=' + encodeURIComponent(region) + '&scope=subtree';
    const ms = months(6);
    // The board reads each state through the work orders' state index: for
    // the node's own region (and a user of it) that is everything held here,
    // with no region filter; for a region below, the owner index with the
    // state as a filter.
    const sess = GC.session() || {}, nodeRegion = sess.node && sess.node.region;
    const own = region === nodeRegion && sess.user && sess.user.region === nodeRegion;
    const boardQ = (st) => '/api/v1/work_orders?' + (own ? '' : scope + '&') + 'state=' + st + '&limit=8';
    const [ov, sup, warn, kpiAll, wok, outk, outs, ...rest] = await Promise.all([
      settle(api('/api/v1/stats/overview?consistency=stale&region=' + encodeURIComponent(region))),
      api('/api/v1/supervision?' + scope + (level ? '&level=' + level : '') + '&limit=' + PAGE + '&offset=' + offset),
      settle(api('/api/v1/supervision/warnings?' + scope + '&limit=' + PAGE)),
      settle(api('/api/v1/kpi/projects?' + scope + '&from=' + ms[0].from)),
      settle(api('/api/v1/kpi/work_orders?' + scope + '&from=' + ms[0].from)), // a period: added up from the KPIs' tallies
      settle(api('/api/v1/kpi/outages?' + scope + '&from=' + ms[0].from)),
      settle(api('/api/v1/outages?' + scope + '&limit=20')),
      ...ms.map((m) => settle(api('/api/v1/kpi/projects?' + scope + '&from=' + m.from + '&to=' + m.to))),
      ...OPEN.map((st) => settle(api(boardQ(st)))),
    ]);
    const byMonth = rest.slice(0, ms.length), board = rest.slice(ms.length);
    const names = {};
    if (ov.ok) [ov.ok, ...(ov.ok.path || []), ...(ov.ok.regions || []), ...(ov.ok.children || [])].forEach((r) => { if (r && r.name) names[r.region] = r.name; });
    const rn = (code) => (names[code] ? names[code] + ' ' : '') + code;

    // ---- supervision ----
    const go = (o) => { const q = new URLSearchParams(params); q.set('offset', String(o)); return '#/processes?' + q.toString(); };
    const levelSel = el('select', { id: 'level', name: 'level' }, el('option', { value: '' }, '本级督办'), el('option', { value: 'all', selected: level === 'all' }, '全部逾期'),
      ['county', 'city', 'province'].map((l) => el('option', { value: l, selected: level === l }, LEVEL[l] + '及以上')));
    levelSel.addEventListener('change', () => { const q = new URLSearchParams(params); q.set('level', levelSel.value); q.delete('offset'); location.hash = '#/processes?' + q.toString(); });
    const supRows = sup.overdue.map((it) => el('tr', { 'data-id': it.id, 'data-step': it.step, class: it.level === 'province' ? 'out' : '' },
      el('td', {}, TYPE[it.type] || it.type),
      el('td', {}, it.title || it.id),
      el('td', {}, it.customer_id ? el('a', { href: '#/customer/' + it.customer_id }, (it.customer_name || it.customer_id) + (it.account_no ? '（' + it.account_no + '）' : '')) : '—'),
      el('td', {}, rn(it.region)), el('td', {}, STEP[it.step] || it.step), el('td', {}, when(it.deadline)),
      el('td', { class: 'num' }, String(it.working_days)), el('td', {}, LEVEL[it.level] || it.level || '—'),
      el('td', {}, it.manager_name || it.responsible || it.manager_id || '—'), el('td', {}, it.note || '')));
    const byLevel = sup.overdue_by_level || {};

    // ---- warnings per manager ----
    let warnPart;
    if (warn.err) warnPart = failed(warn, '预警');
    else {
      const mgrNames = {};
      warn.ok.warnings.forEach((w) => { if (w.manager_id) mgrNames[w.manager_id] = w.manager_name || w.manager_id; });
      const per = Object.entries(warn.ok.by_manager || {}).sort((a, b) => b[1] - a[1]);
      warnPart = [
        table('warn-managers', ['客户经理', '即将到期环节'], per.map(([id, n]) => el('tr', { 'data-manager': id }, el('td', {}, mgrNames[id] || id || '（未指定）'), el('td', { class: 'num' }, String(n)))), '没有即将到期的环节。'),
        warn.ok.warnings.length ? table('warnings', ['项目', '客户', '区域', '环节', '期限', '剩余工作日', '客户经理'], warn.ok.warnings.map((w) => el('tr', { 'data-id': w.id },
          el('td', {}, w.title || w.id), el('td', {}, (w.customer_name || w.customer_id || '—') + (w.account_no ? '（' + w.account_no + '）' : '')), el('td', {}, rn(w.region)),
          el('td', {}, STEP[w.step] || w.step), el('td', {}, when(w.deadline)), el('td', { class: 'num' }, String(w.working_days)),
          el('td', {}, w.manager_name || w.manager_id || '—'))), '') : null,
      ];
    }

    // ---- KPI ----
    const kt = kpiAll.ok && kpiAll.ok.kpi.total;
    // per account manager (近6个月), named: from the lists above, else one staff read each (at most 20)
    const byMgr = kpiAll.ok ? Object.entries(kpiAll.ok.kpi.by_manager || {}).sort((a, b) => b[1].accepted + b[1].open - a[1].accepted - a[1].open).slice(0, 20) : [];
    const mgrName = {};
    sup.overdue.concat(warn.ok ? warn.ok.warnings : []).forEach((it) => { if (it.manager_id && it.manager_name) mgrName[it.manager_id] = it.manager_name; });
    await Promise.all(byMgr.filter(([id]) => !mgrName[id]).map(([id]) => api('/api/v1/staff/' + encodeURIComponent(id)).then((x) => { mgrName[id] = x.name; }, () => {})));
    const days = (v) => (v == null ? '—' : v.toFixed(1) + ' 天');
    const mgrTable = table('kpi-managers', ['客户经理', '受理', '接电', '达标', '达标率', '平均周期', 'P90 周期', '在途', '当前逾期'], byMgr.map(([id, k]) => el('tr', { 'data-manager': id },
      el('td', {}, mgrName[id] || id), el('td', { class: 'num' }, String(k.accepted)), el('td', { class: 'num' }, String(k.energised)), el('td', { class: 'num' }, String(k.on_time)),
      el('td', { class: 'num' }, pct(k.on_time_rate)), el('td', { class: 'num' }, days(k.cycle_days_mean)), el('td', { class: 'num' }, days(k.cycle_days_p90)),
      el('td', { class: 'num' }, String(k.open)), el('td', { class: k.overdue_now ? 'num stale' : 'num' }, String(k.overdue_now)))), '近6个月没有报装项目。');
    const kcards = el('div', { class: 'cards', id: 'kpi-cards' },
      [['报装达标率（近6个月）', kt ? pct(kt.on_time_rate) : '—', kt ? '接电 ' + kt.energised + ' 个，达标 ' + kt.on_time + ' 个' : ''],
        ['平均周期', kt && kt.cycle_days_mean != null ? kt.cycle_days_mean.toFixed(1) + ' 天' : '—', kt && kt.cycle_days_p90 != null ? 'P90 ' + kt.cycle_days_p90.toFixed(1) + ' 天' : ''],
        ['在途项目', kt ? String(kt.open) : '—', kt ? '当前逾期 ' + kt.overdue_now : ''],
        ['工单答复及时率（近6个月）', wok.ok ? pct(wok.ok.kpi.total.answer_on_time_rate) : '—', wok.ok ? '满意率 ' + pct(wok.ok.kpi.total.satisfaction_rate) : ''],
        ['停电通知合规率（近6个月）', outk.ok ? pct(outk.ok.kpi.total.compliance_rate) : '—', outk.ok ? '应通知 ' + outk.ok.kpi.total.notice_required + ' 次' : ''],
      ].map(([l, v, sub]) => el('div', { class: 'card' }, el('div', { class: 'label' }, l), el('div', { class: 'value' }, v), el('div', { class: 'sub' }, sub))));
    const monthChart = el('div', { class: 'chart', id: 'chart-kpi-month' });
    const regionChart = el('div', { class: 'chart', id: 'chart-kpi-region' });

    // ---- work-order board ----
    const counters = (wok.ok && wok.ok.counters) || {};
    const boardEl = el('div', { class: 'board', id: 'board' }, OPEN.map((s, i) => {
      const r = board[i];
      const n = counters['work_orders.open.state.' + s];
      return el('div', { class: 'col', 'data-state': s }, el('h3', {}, label('woState', s) + '（' + (n != null ? n : r.ok ? r.ok.items.length : '—') + '）'),
        r.err ? el('p', { class: 'error' }, r.err.message)
          : r.ok.items.map((w) => el('div', { class: 'wo', 'data-id': w.id }, el('div', {}, (WOKIND[w.kind] || w.kind) + ' · ' + (w.subject || '')),
            el('div', { class: 'muted' }, rn(w.region) + ' · ' + when(w.received_at)))));
    }));

    // ---- outages ----
    let outPart;
    if (outs.err) outPart = failed(outs, '停电事件');
    else {
      const non = new Set(outk.ok ? outk.ok.kpi.total.non_compliant : []);
      outPart = table('outages', ['停电', '类型', '线路/台区', '开始', '结束', '状态', '通知合规', '受影响客户'], outs.ok.items.map((o) => {
        const cell = el('td', {});
        const btn = el('button', { type: 'button', class: 'affected' }, '查看');
        btn.addEventListener('click', async () => {
          btn.disabled = true;
          try {
            const a = await api('/api/v1/outages/' + encodeURIComponent(o.id) + '/affected');
            cell.replaceChildren(el('div', {}, a.count + ' 户，其中重要客户 ' + a.important + ' 户'),
              el('ul', { class: 'affected-list' }, a.customers.slice(0, 20).map((c) => el('li', { class: c.important ? 'stale' : '' },
                el('a', { href: '#/customer/' + c.id }, c.name), '（' + c.account_no + '）' + (c.important ? ' 重要' : '')))),
              a.customers.length > 20 ? el('div', { class: 'muted' }, '另有 ' + (a.customers.length - 20) + ' 户') : '');
          } catch (e) {
            cell.replaceChildren(el('span', { class: 'error' }, e.message));
          }
        });
        cell.append(btn);
        const comp = o.notice_compliant == null ? '免通知' : o.notice_compliant ? '合规' : '不合规';
        return el('tr', { 'data-id': o.id, class: o.notice_compliant === false || non.has(o.id) ? 'out' : '' },
          el('td', {}, o.reason || o.id), el('td', {}, label('outage', o.type)), el('td', {}, o.feeder + (o.transformer_area ? ' / ' + o.transformer_area : '')),
          el('td', {}, when(o.start)), el('td', {}, when(o.end)), el('td', {}, OSTATUS[o.status] || o.status), el('td', {}, comp), cell);
      }), '没有停电事件。');
    }

    // show() takes nodes only (replaceChildren): drop the parts a role or the data leaves out.
    const showAll = (...xs) => show(...xs.flat().filter((x) => x != null && x !== false));
    showAll(
      el('h1', { id: 'page-title' }, '流程监督 · ' + rn(region)),
      el('p', { class: 'muted' }, '按工作日计时（法定节假日与调休）；' + when(sup.at) + ' 的判断。'),
      el('h2', {}, '督办清单'),
      el('div', { class: 'toolbar' }, levelSel,
        GC.exportButton ? GC.exportButton('/api/v1/supervision', Object.assign({ region, scope: 'subtree' }, level ? { level } : {}), '督办清单') : null,
        el('span', { id: 'sup-count' }, '共 ' + sup.count + ' 项（县级 ' + (byLevel.county || 0) + '，地市级 ' + (byLevel.city || 0) + '，省级 ' + (byLevel.province || 0) + '）')),
      table('supervision', ['类型', '名称', '客户', '区域', '环节/时限', '期限', '逾期工作日', '督办层级', '责任人', '说明'], supRows, '没有逾期事项。'),
      el('div', { class: 'toolbar' },
        offset > 0 ? el('a', { href: go(Math.max(0, offset - PAGE)), id: 'sup-prev' }, '← 上一页') : null,
        sup.count > PAGE ? el('span', { class: 'muted' }, '第 ' + (offset + 1) + '–' + Math.min(sup.count, offset + PAGE) + ' 项') : null,
        offset + PAGE < sup.count ? el('a', { href: go(offset + PAGE), id: 'sup-next' }, '下一页 →') : null),
      el('h2', {}, '客户经理预警（即将到期）'),
      GC.exportButton && warn.ok && warn.ok.count ? el('div', { class: 'toolbar' }, GC.exportButton('/api/v1/supervision/warnings', { region, scope: 'subtree' }, '到期预警')) : null,
      el('div', { id: 'warn-part' }, warnPart),
      el('h2', {}, '指标'), kcards,
      el('div', { class: 'grid2' }, monthChart, regionChart),
      el('h2', {}, '客户经理报装指标（近6个月受理或在途）'), mgrTable,
      el('h2', {}, '工单看板（在办）'), boardEl,
      el('h2', {}, '停电事件与通知合规'),
      GC.exportButton ? el('div', { class: 'toolbar' }, GC.exportButton('/api/v1/outages', { region, scope: 'subtree' }, '停电事件')) : null, outPart,
    );

    const f1 = (v) => (v == null ? null : Math.round(v * 10) / 10);
    chart(monthChart, {
      title: { text: '报装达标率与周期（按月接电）', textStyle: { fontSize: 14 } }, tooltip: { trigger: 'axis' }, legend: { bottom: 0 },
      grid: { left: 50, right: 50, top: 50, bottom: 50 }, xAxis: { type: 'category', data: ms.map((m) => m.name) },
      yAxis: [{ type: 'value', name: '达标率 %', max: 100 }, { type: 'value', name: '天' }],
      series: [
        { name: '达标率', type: 'bar', data: byMonth.map((r) => (r.ok && r.ok.kpi.total.on_time_rate != null ? f1(r.ok.kpi.total.on_time_rate * 100) : null)) },
        { name: '平均周期', type: 'line', yAxisIndex: 1, data: byMonth.map((r) => (r.ok ? f1(r.ok.kpi.total.cycle_days_mean) : null)) },
        { name: 'P90 周期', type: 'line', yAxisIndex: 1, data: byMonth.map((r) => (r.ok ? f1(r.ok.kpi.total.cycle_days_p90) : null)) }],
    });
    const regs = kpiAll.ok ? Object.keys(kpiAll.ok.kpi.by_region).sort() : [];
    chart(regionChart, {
      title: { text: '各区域达标率与周期（近6个月）', textStyle: { fontSize: 14 } }, tooltip: { trigger: 'axis' }, legend: { bottom: 0 },
      grid: { left: 50, right: 50, top: 50, bottom: 50 }, xAxis: { type: 'category', data: regs.map((r) => names[r] || r) },
      yAxis: [{ type: 'value', name: '达标率 %', max: 100 }, { type: 'value', name: '天' }],
      series: [
        { name: '达标率', type: 'bar', data: regs.map((r) => { const k = kpiAll.ok.kpi.by_region[r]; return k.on_time_rate != null ? f1(k.on_time_rate * 100) : null; }) },
        { name: '平均周期', type: 'line', yAxisIndex: 1, data: regs.map((r) => f1(kpiAll.ok.kpi.by_region[r].cycle_days_mean)) },
        { name: 'P90 周期', type: 'line', yAxisIndex: 1, data: regs.map((r) => f1(kpiAll.ok.kpi.by_region[r].cycle_days_p90)) }],
    });
  }

  GC.page('processes', (show, parts, params) => processes(show, params));
})();
