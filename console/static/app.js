// gridcrm web console: a framework-free single page (see console/doc.go).
// Rules kept throughout: every string from the API reaches the page as a
// text node (el() below), never as HTML; every request goes to this node's
// /api/v1 with the user's token; the page adds no authority of its own.
'use strict';
(function () {
  // ---------- small helpers ----------
  const main = document.getElementById('main');

  // el builds an element; children that are not nodes become text nodes.
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid == null || kid === false) continue;
      e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return e;
  }

  // Chinese number conventions: 万 and 亿 for large figures.
  function num(n, digits) {
    if (n == null || !isFinite(n)) return '—';
    const d = digits == null ? 2 : digits;
    const a = Math.abs(n);
    if (a >= 1e8) return (n / 1e8).toFixed(d) + '亿';
    if (a >= 1e4) return (n / 1e4).toFixed(d) + '万';
    return n.toLocaleString('zh-CN', { maximumFractionDigits: 2 });
  }
  const kwh = (n) => num(n) + ' 千瓦时';
  const yuan = (n) => num(n) + ' 元';
  const pct = (r) => (r == null || !isFinite(r) ? '—' : (r * 100).toFixed(1) + '%');
  function age(s) {
    if (s == null) return '—';
    if (s < 60) return Math.round(s) + ' 秒前';
    if (s < 3600) return Math.round(s / 60) + ' 分钟前';
    if (s < 86400) return (s / 3600).toFixed(1) + ' 小时前';
    return (s / 86400).toFixed(1) + ' 天前';
  }
  function when(t) {
    if (!t || t.startsWith('0001-')) return '—';
    const d = new Date(t);
    return isNaN(d) ? t : d.toLocaleString('zh-CN', { hour12: false });
  }

  const L = {
    tier: { province: '省级', city: '地市级', county: '县级' },
    category: { residential: '居民', commercial: '商业', industrial: '工业', agricultural: '农业', public: '机关/公共' },
    voltage: { low: '低压（<1千伏）', medium: '中压（1–35千伏）', high: '高压（≥35千伏）' },
    status: { active: '正常', suspended: '暂停', closed: '销户' },
    role: { admin: '管理员', manager: '经理', agent: '客户经理', analyst: '分析员' },
    woState: { received: '受理', dispatched: '派单', accepted: '接单', on_site: '到达现场', done: '处理完成', revisited: '回访', archived: '归档' },
    outage: { planned: '计划停电', temporary: '临时停电', fault: '故障停电' },
    mode: { autonomous: '自治', partial: '部分管理', full: '集中管理' },
    direction: { up: '上行（至上级）', down: '下行（自上级）', 'from-child': '来自下级' },
    linkState: { up: '正常', down: '中断', resyncing: '重同步中', idle: '非主节点' },
    class: { big: '大客户', ordinary: '普通' },
    grade: { core: '核心', key: '重点', general: '一般' },
  };
  const label = (table, k) => (L[table] && L[table][k]) || k || '—';

  // ---------- session ----------
  const store = window.sessionStorage;
  let session = JSON.parse(store.getItem('gridcrm.session') || 'null');

  class APIError extends Error {
    constructor(status, body) {
      const e = (body && body.error) || {};
      super(e.message || ('HTTP ' + status));
      this.status = status; this.code = e.code; this.field = e.field;
    }
  }

  async function api(path, opts) {
    const o = Object.assign({ headers: {} }, opts || {});
    if (session) o.headers.Authorization = 'Bearer ' + session.token;
    if (o.body && typeof o.body !== 'string') { o.body = JSON.stringify(o.body); o.headers['Content-Type'] = 'application/json'; }
    const resp = await fetch(path, o);
    let body = null;
    const text = await resp.text();
    try { body = text ? JSON.parse(text) : null; } catch (_) { body = null; }
    if (resp.status === 401 && session && !path.endsWith('/auth/login')) {
      endSession('会话已过期或已退出，请重新登录。');
      throw new APIError(401, body);
    }
    if (!resp.ok) throw new APIError(resp.status, body);
    return body;
  }

  function endSession(msg) {
    session = null;
    store.removeItem('gridcrm.session');
    showLogin(msg);
  }

  function showLogin(msg) {
    disposeCharts();
    document.getElementById('top').hidden = true;
    const err = el('p', { class: 'error', id: 'login-error' }, msg || '');
    const user = el('input', { id: 'username', name: 'username', autocomplete: 'username', required: true });
    const pass = el('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const form = el('form', { class: 'login', id: 'login' },
      el('h1', {}, '登录'),
      el('label', { for: 'username' }, '用户名'), user,
      el('label', { for: 'password' }, '密码'), pass,
      el('button', { type: 'submit' }, '登录'), err);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      err.textContent = '';
      try {
        const r = await api('/api/v1/auth/login', { method: 'POST', body: { username: user.value, password: pass.value } });
        session = { token: r.token, user: r.user, expires: r.expires_at };
        const cl = await api('/api/v1/cluster');
        session.node = { region: cl.region, tier: cl.tier, node: cl.node };
        store.setItem('gridcrm.session', JSON.stringify(session));
        if (!location.hash) location.hash = '#/'; // hashchange renders
        else route();
      } catch (e) {
        session = null;
        err.textContent = e.status === 401 ? '用户名或密码错误，或用户已停用。' : ('登录失败：' + e.message);
      }
    });
    main.replaceChildren(form);
    user.focus();
  }

  document.getElementById('logout').addEventListener('click', async () => {
    try { await api('/api/v1/auth/logout', { method: 'POST' }); } catch (_) { /* ends locally anyway */ }
    endSession('已退出。');
  });

  // The region a user starts from: the deeper of the node's and the user's.
  function homeRegion() {
    const a = session.node.region, b = session.user.region || a;
    return b.length > a.length ? b : a;
  }

  // ---------- charts ----------
  let charts = [];
  function chart(div, option) {
    if (!window.echarts) { div.append(el('p', { class: 'error' }, '图表库未加载')); return; }
    const c = window.echarts.init(div);
    c.setOption(Object.assign({ animation: false, textStyle: { fontFamily: 'WenQuanYi Micro Hei, sans-serif' } }, option));
    charts.push(c);
  }
  function disposeCharts() { charts.forEach((c) => c.dispose()); charts = []; }
  window.addEventListener('resize', () => charts.forEach((c) => c.resize()));

  // ---------- months and periods ----------
  function addMonths(ym, n) {
    const [y, m] = ym.split('-').map(Number);
    const t = y * 12 + (m - 1) + n;
    return Math.floor(t / 12) + '-' + String((t % 12) + 1).padStart(2, '0');
  }
  function range(from, to) { const out = []; for (let m = from; m <= to; m = addMonths(m, 1)) out.push(m); return out; }
  function sum(byMonth, months) { return months.reduce((s, m) => s + (byMonth[m] || 0), 0); }
  const PERIODS = { month: '月', quarter: '季', year: '年', r12: '近12个月' };
  // periodMonths answers the months of the period ending at latest, the
  // months a year before (同比) and the previous period (环比, or null).
  function periodMonths(kind, latest) {
    const [y, m] = latest.split('-').map(Number);
    let cur;
    switch (kind) {
      case 'month': cur = [latest]; break;
      case 'quarter': cur = range(y + '-' + String(Math.floor((m - 1) / 3) * 3 + 1).padStart(2, '0'), latest); break;
      case 'year': cur = range(y + '-01', latest); break;
      default: cur = range(addMonths(latest, -11), latest);
    }
    const yoy = cur.map((x) => addMonths(x, -12));
    let mom = null;
    if (kind === 'month') mom = [addMonths(latest, -1)];
    if (kind === 'quarter') mom = range(addMonths(cur[0], -3), addMonths(cur[0], -3 + cur.length - 1));
    const name = { month: latest.replace('-', '年') + '月', quarter: y + '年第' + (Math.floor((m - 1) / 3) + 1) + '季度',
      year: y + '年（截至' + m + '月）', r12: cur[0] + ' 至 ' + latest }[kind];
    return { cur, yoy, mom, name };
  }
  function change(a, b) {
    if (!b) return null;
    return (a - b) / b;
  }
  function changeSpan(prefix, r) {
    if (r == null) return el('span', {}, prefix + ' —');
    return el('span', { class: r >= 0 ? 'up' : 'down' }, prefix + ' ' + (r >= 0 ? '+' : '') + (r * 100).toFixed(1) + '%');
  }

  // ---------- pages ----------
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

  async function hierarchy(show) {
    const [cl, sync, regs, ov] = await Promise.all([api('/api/v1/cluster'), api('/api/v1/sync/status'),
      api('/api/v1/ops/regions'), api('/api/v1/stats/overview?consistency=stale&region=' + encodeURIComponent(homeRegion()))]);
    const names = {};
    [ov, ...ov.path, ...ov.regions, ...ov.children].forEach((r) => { if (r.name) names[r.region] = r.name; });
    const nm = (code) => (names[code] ? names[code] + ' ' : '') + code;
    const table = (id, heads, rows) => el('table', { id }, el('thead', {}, el('tr', {}, heads.map((h) => el('th', {}, h)))), el('tbody', {}, rows));
    const td = (v, stale) => el('td', { class: stale ? 'stale' : '' }, v);
    show(
      el('h1', { id: 'page-title' }, '层级与运行状态 · ' + nm(cl.region)),
      el('h2', {}, '本区域集群'),
      el('div', { class: 'panel' }, el('dl', { class: 'kv' },
        el('dt', {}, '本节点'), el('dd', {}, cl.node + '（' + cl.state + '）'),
        el('dt', {}, '主节点'), el('dd', {}, cl.leader_id || '未知'),
        el('dt', {}, '层级'), el('dd', {}, label('tier', cl.tier)),
        el('dt', {}, '已应用索引'), el('dd', {}, String(cl.applied_index)))),
      table('members', ['成员', '地址', '主节点'], (cl.members || []).map((m) => el('tr', {}, td(m.id), td(m.addr), td(m.leader ? '是' : '')))),
      el('h2', {}, '各区域（本节点所持副本）'),
      table('regions', ['区域', '主节点', '任期', '管理模式', '纪元', '写入方', '待回执指令', '未决冲突', '心跳'],
        (regs.regions || []).map((r) => el('tr', { 'data-region': r.region }, td(nm(r.region)), td(r.leader || '—', !r.leader), td(String(r.term)),
          td(label('mode', r.mode)), td(String(r.epoch)), td(r.writer ? nm(r.writer) : '交接中', !r.writer), td(String(r.pending_commands), r.pending_commands > 0),
          td(String(r.open_conflicts), r.open_conflicts > 0), td(age(r.heartbeat_age_seconds), r.heartbeat_age_seconds > 60)))),
      el('h2', {}, '层间链路'),
      table('links', ['对端', '方向', '状态', '模式/纪元', '滞后条目', '滞后秒数', '最近联系', '重同步', '排队指令', '拒绝', '最近错误'],
        (sync.links || []).map((l) => {
          const bad = l.running && (l.state !== 'up' || l.lag_seconds > 60);
          return el('tr', { 'data-peer': l.peer }, td(nm(l.peer)), td(label('direction', l.direction)), td(label('linkState', l.state), bad),
            td(l.mode ? label('mode', l.mode) + ' / ' + l.epoch : '—'), td(String(l.lag_entries), bad && l.lag_entries > 0),
            td(l.lag_seconds.toFixed(1), l.lag_seconds > 60), td(when(l.last_contact)), td(String(l.resyncs)), td(String(l.queued_commands)),
            td(String(l.rejected), l.rejected > 0), td(l.last_error || ''));
        })),
      el('h2', {}, 'WireGuard 隧道对端'),
      (sync.tunnel_peers || []).length === 0 ? el('p', { class: 'muted' }, '本节点未启用隧道。')
        : table('tunnel', ['公钥', '隧道地址', '端点', '最近握手', '接收', '发送'], sync.tunnel_peers.map((p) => el('tr', {},
          td(p.public_key.slice(0, 10) + '…'), td(p.addr), td(p.endpoint), td(age(p.last_handshake_age_seconds), p.last_handshake_age_seconds == null || p.last_handshake_age_seconds > 180),
          td(num(p.rx_bytes) + ' 字节'), td(num(p.tx_bytes) + ' 字节')))),
    );
  }

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

  // ---------- router ----------
  // A render is abandoned when another has started since (a click while a
  // page loads): show() throws STALE instead of replacing the newer page.
  let gen = 0;
  const STALE = new Error('stale render');
  async function route() {
    const my = ++gen;
    const show = (...nodes) => { if (my !== gen) throw STALE; main.replaceChildren(...nodes); };
    if (!session) { showLogin(); return; }
    disposeCharts();
    document.getElementById('top').hidden = false;
    const u = session.user;
    document.getElementById('whoami').textContent = u.username + '（' + label('role', u.role) + '，' + u.region + '）· 节点 ' + session.node.region;
    const [path, query] = (location.hash.slice(1) || '/').split('?');
    const parts = path.split('/').filter(Boolean);
    const params = new URLSearchParams(query || '');
    const page = parts[0] || 'overview';
    document.querySelectorAll('[data-nav]').forEach((a) => a.classList.toggle('active', a.dataset.nav === (page === 'customer' ? 'customers' : page)));
    main.replaceChildren(el('p', { class: 'muted' }, '正在加载…'));
    try {
      switch (page) {
        case 'overview': await overview(show, parts[1] || homeRegion()); break;
        case 'hierarchy': await hierarchy(show); break;
        case 'customers': await customers(show, params); break;
        case 'customer': await customer(show, parts[1]); break;
        default: main.replaceChildren(el('p', { class: 'error' }, '没有这个页面。'));
      }
    } catch (e) {
      if (e === STALE || e.status === 401 || my !== gen) return;
      const msg = e.status === 403 ? '无权查看：' : (e.status === 404 ? '未找到：' : '出错了：');
      main.replaceChildren(el('h1', { id: 'page-title' }, '无法显示'), el('p', { class: 'error', id: 'page-error' }, msg + e.message));
    }
  }
  window.addEventListener('hashchange', route);
  route();
})();
