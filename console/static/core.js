// gridcrm web console: a framework-free single page (see console/doc.go).
// Rules kept throughout: every string from the API reaches the page as a
// text node (el() below), never as HTML; every request goes to this node's
// /api/v1 with the user's session; the page adds no authority of its own.
//
// Session: the login asks for a browser session (cookie: true). The token
// lives in an HttpOnly, SameSite=Strict cookie no script can read; the page
// keeps only the session's CSRF token (in memory; after a reload it asks
// GET /api/v1/auth/session for it) and sends it in X-CSRF-Token with every
// write. sessionStorage holds display information only (user, node).
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

  // ---------- language ----------
  // The console speaks Chinese (zh-CN) by default; 中文/English in the
  // header switches core.js's own words, the label tables (L, PERIODS),
  // number and date formats and the navigation to English, kept in
  // localStorage (gridcrm.lang). Page scripts may keep their Chinese text;
  // a page that wants both uses GC.tr(zh, en).
  let lang = (window.localStorage && localStorage.getItem('gridcrm.lang')) === 'en' ? 'en' : 'zh';
  const tr = (zh, en) => (lang === 'en' ? en : zh);

  // Chinese number conventions: 万 and 亿 for large figures (English: k,
  // M, B).
  function num(n, digits) {
    if (n == null || !isFinite(n)) return '—';
    const d = digits == null ? 2 : digits;
    const a = Math.abs(n);
    if (lang === 'en') {
      if (a >= 1e9) return (n / 1e9).toFixed(d) + 'B';
      if (a >= 1e6) return (n / 1e6).toFixed(d) + 'M';
      if (a >= 1e4) return (n / 1e3).toFixed(d) + 'k';
      return n.toLocaleString('en', { maximumFractionDigits: 2 });
    }
    if (a >= 1e8) return (n / 1e8).toFixed(d) + '亿';
    if (a >= 1e4) return (n / 1e4).toFixed(d) + '万';
    return n.toLocaleString('zh-CN', { maximumFractionDigits: 2 });
  }
  const kwh = (n) => num(n) + tr(' 千瓦时', ' kWh');
  const yuan = (n) => num(n) + tr(' 元', ' yuan');
  const pct = (r) => (r == null || !isFinite(r) ? '—' : (r * 100).toFixed(1) + '%');
  function age(s) {
    if (s == null) return '—';
    if (s < 60) return Math.round(s) + tr(' 秒前', ' s ago');
    if (s < 3600) return Math.round(s / 60) + tr(' 分钟前', ' min ago');
    if (s < 86400) return (s / 3600).toFixed(1) + tr(' 小时前', ' h ago');
    return (s / 86400).toFixed(1) + tr(' 天前', ' days ago');
  }
  function when(t) {
    if (!t || t.startsWith('0001-')) return '—';
    const d = new Date(t);
    return isNaN(d) ? t : d.toLocaleString(tr('zh-CN', 'en-GB'), { hour12: false });
  }

  const L = {
    tier: { province: '省级', city: '地市级', county: '县级' },
    category: { residential: '居民', commercial: '商业', industrial: '工业', agricultural: '农业', public: '机关/公共' },
    voltage: { low: '低压（<1千伏）', medium: '中压（1–35千伏）', high: '高压（≥35千伏）' },
    status: { active: '正常', suspended: '暂停', closed: '销户' },
    role: { admin: '管理员', manager: '经理', agent: '客户经理', analyst: '分析员', auditor: '审计员' },
    woState: { received: '受理', dispatched: '派单', accepted: '接单', on_site: '到达现场', done: '处理完成', revisited: '回访', archived: '归档' },
    outage: { planned: '计划停电', temporary: '临时停电', fault: '故障停电' },
    mode: { autonomous: '自治', partial: '部分管理', full: '集中管理' },
    direction: { up: '上行（至上级）', down: '下行（自上级）', 'from-child': '来自下级' },
    linkState: { up: '正常', down: '中断', resyncing: '重同步中', idle: '非主节点' },
    class: { big: '大客户', ordinary: '普通' },
    grade: { core: '核心', key: '重点', general: '一般' },
  };
  const label = (table, k) => (L[table] && L[table][k]) || k || '—';
  // Reason codes of the analytics (the warning run, the credit grade, the
  // customer trends) in both languages: reason(code) answers the words.
  const REASONS = {
    zero: ['零电量', 'zero reading'], drop: ['电量骤降', 'sudden drop'], rise: ['电量骤增', 'sudden rise'],
    drop_mom: ['环比骤降', 'drop on the month'], rise_mom: ['环比骤增', 'rise on the month'],
    drop_yoy: ['同比骤降', 'drop on the year'], rise_yoy: ['同比骤增', 'rise on the year'],
    churn_risk: ['流失风险', 'churn risk'],
    'veto:theft_24m': ['否决：24个月内窃电', 'veto: theft in 24 months'], 'veto:arrears_3m': ['否决：连续3个月欠费', 'veto: 3 months in arrears'],
    late_3m: ['近3个月迟缴', 'late in 3 months'], late_6m: ['近6个月迟缴', 'late in 6 months'], late_12m: ['近12个月迟缴', 'late in 12 months'],
    late_24m: ['近24个月迟缴', 'late in 24 months'], unpaid_3m: ['近3个月欠费', 'unpaid in 3 months'], unpaid_6m: ['近6个月欠费', 'unpaid in 6 months'],
    unpaid_12m: ['近12个月欠费', 'unpaid in 12 months'], unpaid_24m: ['近24个月欠费', 'unpaid in 24 months'],
    over_30_days_late: ['逾期超30天', 'over 30 days late'], max_days_late: ['最长逾期天数', 'longest delay'], days_late_total: ['累计逾期天数', 'days late in total'],
    late_last_bill: ['上期电费迟缴', 'last bill late'], arrears_streak: ['连续欠费', 'arrears streak'], violation_24m: ['违约用电', 'violations'],
    theft_24m: ['窃电', 'theft'], no_direct_debit: ['未办代扣', 'no direct debit'], short_tenure: ['用电年限短', 'short tenure'],
    category: ['用电类别', 'category'], consumption_change: ['用电量变化', 'consumption change'], consumption_volatile: ['用电量波动大', 'volatile consumption'],
    consumption_level: ['用电规模', 'consumption level'], bill_per_kwh_change: ['度电电费变化', 'bill per kWh change'],
    tariff: ['电价调整', 'tariff'], peak_share: ['峰段占比变化', 'peak share'], capacity_charge: ['基本电费', 'capacity charge'],
  };
  // A strength (+code: better than the average customer on it) in words.
  const STRENGTHS = { '+direct_debit': ['已办代扣', 'direct debit'], '+long_tenure': ['用电年限长', 'long tenure'] };
  const reason = (code) => {
    if (STRENGTHS[code]) return tr(STRENGTHS[code][0], STRENGTHS[code][1]);
    if (code && code[0] === '+') return tr('优于平均：', 'better than average: ') + reason(code.slice(1));
    return REASONS[code] ? tr(REASONS[code][0], REASONS[code][1]) : code;
  };
  // The same tables in English; setLang swaps the words in place, so a
  // page that took GC.L (or PERIODS) at load sees the new ones.
  const L_EN = {
    tier: { province: 'Province', city: 'City', county: 'County' },
    category: { residential: 'Residential', commercial: 'Commercial', industrial: 'Industrial', agricultural: 'Agricultural', public: 'Public' },
    voltage: { low: 'Low (<1 kV)', medium: 'Medium (1–35 kV)', high: 'High (≥35 kV)' },
    status: { active: 'Active', suspended: 'Suspended', closed: 'Closed' },
    role: { admin: 'Administrator', manager: 'Manager', agent: 'Account manager', analyst: 'Analyst', auditor: 'Auditor' },
    woState: { received: 'Received', dispatched: 'Dispatched', accepted: 'Accepted', on_site: 'On site', done: 'Done', revisited: 'Revisited', archived: 'Archived' },
    outage: { planned: 'Planned outage', temporary: 'Temporary outage', fault: 'Fault outage' },
    mode: { autonomous: 'Autonomous', partial: 'Partial', full: 'Full' },
    direction: { up: 'Up (to parent)', down: 'Down (from parent)', 'from-child': 'From child' },
    linkState: { up: 'Up', down: 'Down', resyncing: 'Resyncing', idle: 'Not leader' },
    class: { big: 'Big customer', ordinary: 'Ordinary' },
    grade: { core: 'Core', key: 'Key', general: 'General' },
  };
  const L_ZH = JSON.parse(JSON.stringify(L));

  // ---------- session ----------
  // session is { user, node, csrf } while logged in; sessionStorage keeps
  // { user, node } only, to tell a reload from a first visit.
  const store = window.sessionStorage;
  const STORE_KEY = 'gridcrm.console';
  store.removeItem('gridcrm.session'); // the bearer token earlier versions kept there
  let session = null;
  function saveSession() { store.setItem(STORE_KEY, JSON.stringify({ user: session.user, node: session.node })); }

  class APIError extends Error {
    constructor(status, body) {
      const e = (body && body.error) || {};
      super(e.message || ('HTTP ' + status));
      this.status = status; this.code = e.code; this.field = e.field;
    }
  }

  async function api(path, opts) {
    const o = Object.assign({ headers: {}, credentials: 'same-origin' }, opts || {});
    const method = (o.method || 'GET').toUpperCase();
    if (session && session.csrf && method !== 'GET' && method !== 'HEAD') o.headers['X-CSRF-Token'] = session.csrf;
    if (o.body && typeof o.body !== 'string') { o.body = JSON.stringify(o.body); o.headers['Content-Type'] = 'application/json'; }
    const resp = await fetch(path, o);
    let body = null;
    const text = await resp.text();
    try { body = text ? JSON.parse(text) : null; } catch (_) { body = null; }
    if (resp.status === 401 && session && !path.endsWith('/auth/login')) {
      endSession(tr('会话已过期或已退出，请重新登录。', 'The session expired or was ended: log in again.'));
      throw new APIError(401, body);
    }
    if (!resp.ok) throw new APIError(resp.status, body);
    return body;
  }

  function endSession(msg) {
    session = null;
    store.removeItem(STORE_KEY);
    showLogin(msg);
  }

  // resume picks up the browser's session after a reload (or in a new
  // tab): the cookie, if any, answers who is logged in and the CSRF token.
  // Without one the login page shows, saying why when the tab had a session.
  async function resume() {
    const had = store.getItem(STORE_KEY) != null;
    let saved = null;
    try { saved = JSON.parse(store.getItem(STORE_KEY) || 'null'); } catch (_) { saved = null; }
    const expired = had ? tr('会话已过期或已结束，请重新登录。', 'The session expired or was ended: log in again.') : '';
    try {
      const s = await api('/api/v1/auth/session');
      if (!s || !s.authenticated) { endSession(expired); return false; }
      session = { user: s.user, csrf: s.csrf_token || '', node: s.node };
      saveSession();
      return true;
    } catch (e) {
      if (e.status === 401) { if (!session) endSession(expired); return false; } // api() showed the login page
      endSession(tr('无法连接节点：', 'Cannot reach the node: ') + e.message);
      return false;
    }
  }

  function showLogin(msg) {
    disposeCharts();
    document.getElementById('top').hidden = true;
    const err = el('p', { class: 'error', id: 'login-error' }, msg || '');
    const user = el('input', { id: 'username', name: 'username', autocomplete: 'username', required: true });
    const pass = el('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const form = el('form', { class: 'login', id: 'login' },
      el('h1', {}, tr('登录', 'Log in')),
      el('label', { for: 'username' }, tr('用户名', 'Username')), user,
      el('label', { for: 'password' }, tr('密码', 'Password')), pass,
      el('button', { type: 'submit' }, tr('登录', 'Log in')), err,
      el('p', { class: 'muted' }, el('a', { href: '#', id: 'login-lang', onclick: (ev) => { ev.preventDefault(); setLang(lang === 'en' ? 'zh' : 'en'); } },
        lang === 'en' ? '中文' : 'English')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      err.textContent = '';
      try {
        const r = await api('/api/v1/auth/login', { method: 'POST', body: { username: user.value, password: pass.value, cookie: true } });
        session = { user: r.user, csrf: r.csrf_token };
        session.node = (await api('/api/v1/auth/session')).node;
        saveSession();
        if (!location.hash) location.hash = '#/'; // hashchange renders
        else route();
      } catch (e) {
        session = null;
        err.textContent = e.status === 401 ? tr('用户名或密码错误，或用户已停用。', 'Wrong username or password, or the user is disabled.') : (tr('登录失败：', 'Login failed: ') + e.message);
      }
    });
    main.replaceChildren(form);
    user.focus();
  }

  document.getElementById('logout').addEventListener('click', async () => {
    try { await api('/api/v1/auth/logout', { method: 'POST' }); } catch (_) { /* ends locally anyway */ }
    endSession(tr('已退出。', 'Logged out.'));
  });

  // The region a user starts from: the deeper of the node's and the user's.
  function homeRegion() {
    const a = session.node.region, b = session.user.region || a;
    return b.length > a.length ? b : a;
  }

  // ---------- Excel export ----------
  // exportButton answers a 导出Excel button for a table the page lists from
  // path (an /api/v1 list route, or /api/v1/stats/overview for its child
  // regions) with params (the same filters; limit, after and offset are
  // dropped: the export holds every matching row, up to the server's cap). The
  // server runs the route with the user's session (GET /api/v1/export.xlsx,
  // api/export.go); the file is saved under the name it gives. A refusal
  // (e.g. 413, too many rows) shows beside the button.
  function exportButton(path, params, name) {
    const q = new URLSearchParams(params || {});
    q.delete('limit'); q.delete('after'); q.delete('offset');
    q.set('path', path);
    const msg = el('span', { class: 'error export-error' });
    const idle = tr('导出Excel', 'Export to Excel');
    const btn = el('button', { type: 'button', class: 'export', 'data-export': path }, idle);
    btn.addEventListener('click', async () => {
      msg.textContent = '';
      btn.disabled = true; btn.textContent = tr('正在导出…', 'Exporting…');
      try {
        const resp = await fetch('/api/v1/export.xlsx?' + q.toString(), { credentials: 'same-origin' });
        if (resp.status === 401 && session) { endSession(tr('会话已过期或已退出，请重新登录。', 'The session expired or was ended: log in again.')); return; }
        if (!resp.ok) {
          let m = 'HTTP ' + resp.status;
          try { m = (await resp.json()).error.message || m; } catch (_) { /* not JSON */ }
          msg.textContent = (resp.status === 413 ? tr('超过导出行数上限：', 'Too many rows to export: ') : tr('导出失败：', 'Export failed: ')) + m;
          return;
        }
        const cd = /filename\*=UTF-8''([^;]+)/.exec(resp.headers.get('Content-Disposition') || '');
        const file = cd ? decodeURIComponent(cd[1]) : (name || 'export') + '.xlsx';
        const href = URL.createObjectURL(await resp.blob());
        const a = el('a', { href, download: file, hidden: true });
        document.body.append(a); a.click(); a.remove();
        setTimeout(() => URL.revokeObjectURL(href), 60000);
      } catch (e) {
        msg.textContent = tr('导出失败：', 'Export failed: ') + e.message;
      } finally {
        btn.disabled = false; btn.textContent = idle;
      }
    });
    return el('span', { class: 'export-wrap' }, btn, ' ', msg);
  }

  // ---------- charts ----------
  let charts = [];
  function chart(div, option) {
    if (!window.echarts) { div.append(el('p', { class: 'error' }, tr('图表库未加载', 'The chart library did not load'))); return; }
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
  const PERIODS_ZH = Object.assign({}, PERIODS);
  const PERIODS_EN = { month: 'Month', quarter: 'Quarter', year: 'Year', r12: 'Last 12 months' };
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
    const q = Math.floor((m - 1) / 3) + 1;
    const name = lang === 'en'
      ? { month: latest, quarter: y + ' Q' + q, year: y + ' (to month ' + m + ')', r12: cur[0] + ' to ' + latest }[kind]
      : { month: latest.replace('-', '年') + '月', quarter: y + '年第' + q + '季度', year: y + '年（截至' + m + '月）', r12: cur[0] + ' 至 ' + latest }[kind];
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
    document.getElementById('whoami').textContent = lang === 'en'
      ? u.username + ' (' + label('role', u.role) + ', ' + u.region + ') · node ' + session.node.region
      : u.username + '（' + label('role', u.role) + '，' + u.region + '）· 节点 ' + session.node.region;
    const [path, query] = (location.hash.slice(1) || '/').split('?');
    const parts = path.split('/').filter(Boolean);
    const params = new URLSearchParams(query || '');
    // An auditor reads the audit trail and nothing else: that is its home
    // page and its only link; admins see the 审计 link beside the others.
    const auditor = u.role === 'auditor';
    document.querySelectorAll('[data-nav]').forEach((a) => {
      if (a.dataset.nav === 'audit') a.hidden = !(auditor || u.role === 'admin');
      else if (a.dataset.nav !== 'management') a.hidden = auditor; // management.js shows its link to the admins it serves
      else if (auditor) a.hidden = true;
    });
    const page = parts[0] || (auditor ? 'audit' : 'overview');
    const p = pages[page];
    document.querySelectorAll('[data-nav]').forEach((a) => a.classList.toggle('active', !!p && a.dataset.nav === p.nav));
    main.replaceChildren(el('p', { class: 'muted' }, tr('正在加载…', 'Loading…')));
    try {
      if (p) await p.render(show, parts, params);
      else main.replaceChildren(el('p', { class: 'error' }, tr('没有这个页面。', 'No such page.')));
    } catch (e) {
      if (e === STALE || e.status === 401 || my !== gen) return;
      const msg = e.status === 403 ? tr('无权查看：', 'Not allowed: ') : (e.status === 404 ? tr('未找到：', 'Not found: ') : tr('出错了：', 'Error: '));
      main.replaceChildren(el('h1', { id: 'page-title' }, tr('无法显示', 'Cannot show this page')), el('p', { class: 'error', id: 'page-error' }, msg + e.message));
    }
  }

  // ---------- the language switch ----------
  const NAV_EN = { overview: 'Overview', hierarchy: 'Hierarchy', customers: 'Customers', bigcustomers: 'Big customers',
    processes: 'Processes', management: 'Management', analytics: 'Analytics', audit: 'Audit' };
  const navZH = {};
  const langButton = el('button', { type: 'button', id: 'lang', title: '中文 / English' });
  // applyLang puts the words of lang into the tables and the header.
  function applyLang() {
    const src = lang === 'en' ? L_EN : L_ZH;
    for (const t of Object.keys(L)) {
      for (const k of Object.keys(L[t])) delete L[t][k];
      Object.assign(L[t], src[t] || L_ZH[t]);
    }
    Object.assign(PERIODS, lang === 'en' ? PERIODS_EN : PERIODS_ZH);
    document.documentElement.lang = tr('zh-CN', 'en');
    document.querySelectorAll('[data-nav]').forEach((a) => {
      const k = a.dataset.nav;
      if (!(k in navZH)) navZH[k] = a.textContent;
      a.textContent = lang === 'en' ? (NAV_EN[k] || navZH[k]) : navZH[k];
    });
    const out = document.getElementById('logout');
    if (out) out.textContent = tr('退出', 'Log out');
    const brand = document.querySelector('#top .brand');
    if (brand) { brand.dataset.zh = brand.dataset.zh || brand.textContent; brand.textContent = tr(brand.dataset.zh, 'gridcrm CRM'); }
    langButton.textContent = lang === 'en' ? '中文' : 'English';
  }
  function setLang(l) {
    lang = l === 'en' ? 'en' : 'zh';
    try { localStorage.setItem('gridcrm.lang', lang); } catch (_) { /* private mode: this tab only */ }
    applyLang();
    if (session) route(); else showLogin();
  }
  langButton.addEventListener('click', () => setLang(lang === 'en' ? 'zh' : 'en'));
  {
    const out = document.getElementById('logout');
    if (out && out.parentNode) out.parentNode.insertBefore(langButton, out);
  }

  // ---------- what the pages use (pages/*.js) ----------
  // A page registers itself with GC.page(name, render, nav): render(show,
  // parts, params) fetches its data and calls show(...nodes) once; nav names
  // the header link it lights (defaults to name).
  const pages = {};
  window.GC = {
    el, num, kwh, yuan, pct, age, when, L, label, reason, api, APIError, chart, homeRegion, exportButton,
    addMonths, range, sum, PERIODS, periodMonths, change, changeSpan, tr,
    lang: () => lang,
    setLang,
    session: () => session,
    route: () => route(),
    page(name, render, nav) { pages[name] = { render, nav: nav || name }; },
    async start() { applyLang(); window.addEventListener('hashchange', route); if (await resume()) route(); },
  };
})();
