// gridcrm console page: 分析 analytics (see console/doc.go; helpers in core.js).
// Issue 15's analyses of the region and its subtree, each read from its
// own route (api/analytics.go, api/warnings.go, api/market.go): the demand
// forecast (GET /api/v1/forecast/demand, with the actual months from
// GET /api/v1/stats/overview), the credit-grade distribution
// (/credit/distribution), the abnormal-consumption and churn warnings
// (/warnings/abnormal, /warnings/churn; answered with POST
// /api/v1/warning_acks), prices per kWh (/analysis/tariff), the market
// (/analysis/market) and the customer rankings (/analysis/customers).
// A section whose route refuses shows the refusal in its place; the
// others still show. Filters live in the hash (#/analytics/<region>?…).
'use strict';
(function () {
  const { el, num, kwh, yuan, pct, label, api, chart, homeRegion, addMonths, tr } = window.GC;
  const enc = encodeURIComponent;

  // esc: ECharts tooltips are HTML; every string put in one is escaped.
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  // settle keeps a section's answer or its refusal; a 200 without a body
  // (an answer the API could not encode) counts as a refusal.
  const settle = (p) => p.then((v) => (v == null ? { err: new Error(tr('未返回结果', 'the route answered nothing')) } : { ok: v }), (e) => ({ err: e }));
  const signed = (r) => (r == null || !isFinite(r) ? '—' : (r >= 0 ? '+' : '') + (r * 100).toFixed(1) + '%');
  const price = (v) => (v == null ? '—' : v.toFixed(4) + tr(' 元/千瓦时', ' yuan/kWh'));

  const reason = GC.reason;
  const STATUS = { open: ['待处理', 'Open'], acknowledged: ['已确认', 'Acknowledged'], dismissed: ['已忽略', 'Dismissed'], all: ['全部', 'All'] };
  const status = (s) => (STATUS[s] ? tr(STATUS[s][0], STATUS[s][1]) : s);
  const RANKS = {
    growing: ['增长最快', 'Fastest growing'], shrinking: ['下降最快', 'Fastest shrinking'],
    bill_vs_kwh: ['电费变化远超电量', 'Bill moved beyond kWh'], peak_share: ['峰段占比最高（错峰候选）', 'Highest peak share (peak shifting)'],
  };
  const dimLabel = (dim, v) => label(dim === 'voltage_class' ? 'voltage' : 'category', v);
  // The roles that may answer a warning (api: writeRolesOf["warning_acks"]);
  // the API decides, and its refusal shows beside the buttons.
  const ACK_ROLES = ['admin', 'manager', 'agent'];

  function table(id, heads, rows, numeric) {
    return el('table', { id },
      el('thead', {}, el('tr', {}, heads.map((h, i) => el('th', { class: numeric && numeric.includes(i) ? 'num' : '' }, h)))),
      el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { colspan: heads.length, class: 'muted' }, tr('无', 'None')))));
  }
  const cells = (vals, numeric, attrs) => el('tr', attrs || {}, vals.map((v, i) => el('td', { class: numeric && numeric.includes(i) ? 'num' : '' }, v)));
  const failed = (id, r) => el('p', { class: 'error', id: id + '-error' }, tr('无法读取：', 'Cannot read: ') + r.err.message);
  const customerLink = (id, name) => el('a', { href: '#/customer/' + id }, name || id);

  async function analytics(show, region, params) {
    const q = (k, d) => params.get(k) || d;
    const manager = q('manager', '');
    const wclass = q('class', 'big');
    const wstatus = q('status', 'open');
    const rank = q('rank', 'growing');
    const dim = q('dim', 'category');
    const scoped = 'region=' + enc(region) + '&scope=subtree';
    const wq = scoped + (manager ? '&manager_id=' + enc(manager) : '') + '&status=' + enc(wstatus);

    const o = await api('/api/v1/stats/overview?region=' + enc(region)); // the page's region and its actual months
    const months = Object.keys(o.kwh_by_month).filter((m) => o.kwh_by_month[m] > 0).sort();
    const latest = months[months.length - 1];
    const [fc, dist, abn, churn, tariff, market, ranked, staff] = await Promise.all([
      months.length >= 12 ? settle(api('/api/v1/forecast/demand?' + scoped + '&horizon=12'))
        : Promise.resolve({ err: new Error(tr('需要至少12个月的电量', 'a forecast needs 12 months of consumption')) }),
      settle(api('/api/v1/credit/distribution?' + scoped)),
      settle(api('/api/v1/warnings/abnormal?' + wq + '&class=' + enc(wclass))),
      settle(api('/api/v1/warnings/churn?' + wq)),
      settle(api('/api/v1/analysis/tariff?' + scoped + '&dim=' + enc(dim) + (latest ? '&from=' + addMonths(latest, -11) : ''))),
      latest ? settle(api('/api/v1/analysis/market?' + scoped)) : Promise.resolve({ err: new Error(tr('尚无电费数据', 'no bills yet')) }),
      settle(api('/api/v1/analysis/customers?' + scoped + '&rank=' + enc(rank) + '&limit=20')),
      settle(api('/api/v1/staff?' + scoped + '&limit=200')),
    ]);
    // setParam re-renders the page with one filter changed.
    const setParam = (k, v) => {
      const p = new URLSearchParams(params);
      if (v) p.set(k, v); else p.delete(k);
      location.hash = '#/analytics/' + region + (p.toString() ? '?' + p.toString() : '');
    };
    const select = (id, k, cur, opts) => el('select', { id, onchange: (ev) => setParam(k, ev.target.value) },
      opts.map(([v, t]) => el('option', { value: v, selected: v === cur }, t)));

    const page = [
      el('h1', { id: 'page-title' }, (o.name || o.region) + ' · ' + tr('分析', 'Analytics')),
      el('div', { class: 'crumbs', id: 'crumbs' }, o.path.map((p, i) => i === o.path.length - 1
        ? el('span', {}, p.name || p.region)
        : [el('a', { href: '#/analytics/' + p.region }, p.name || p.region), el('span', {}, '›')])),
      el('p', { class: 'muted' }, tr('本区域及其下级区域；各项分析读取物化的汇总计数与月度分析结果，不逐户读取账单。',
        'This region and every region below it; each analysis reads materialised counters and the monthly runs\' records, never the bills.')),
    ];
    if (o.children && o.children.length) {
      page.push(el('div', { class: 'toolbar', id: 'child-regions' }, el('span', {}, tr('下级区域：', 'Regions below: ')),
        o.children.map((c) => el('a', { href: '#/analytics/' + c.region, 'data-region': c.region }, c.name || c.region))));
    }
    const draws = []; // charts, drawn once the page is shown

    // 1. Demand forecast: 24 actual months, 12 forecast with 80%/95% bands.
    page.push(el('h2', {}, tr('电量需求预测', 'Demand forecast')));
    if (fc.err) page.push(failed('forecast', fc));
    else {
      const f = fc.ok;
      const div = el('div', { class: 'chart', id: 'chart-forecast' });
      const actual = months.slice(-24);
      const axis = actual.concat(f.months.map((m) => m.month).filter((m) => !actual.includes(m)));
      const at = (m, k) => { const x = f.months.find((y) => y.month === m); return x ? x[k] : null; };
      const band = (lo, hi) => axis.map((m) => (at(m, hi) == null ? null : at(m, hi) - at(m, lo)));
      draws.push(() => chart(div, {
        title: { text: tr('月度售电量：实际与预测', 'Monthly sales: actual and forecast'), textStyle: { fontSize: 14 } },
        tooltip: { trigger: 'axis', formatter: (ps) => esc(ps[0].axisValue) + '<br>' + ps.filter((p) => !p.seriesName.startsWith('_'))
          .map((p) => esc(p.seriesName) + '：' + esc(kwh(p.value))).join('<br>') +
          (at(ps[0].axisValue, 'lo80') != null ? '<br>' + esc(tr('80%区间', '80% band')) + '：' + esc(num(at(ps[0].axisValue, 'lo80'))) + '–' + esc(num(at(ps[0].axisValue, 'hi80'))) +
            '<br>' + esc(tr('95%区间', '95% band')) + '：' + esc(num(at(ps[0].axisValue, 'lo95'))) + '–' + esc(num(at(ps[0].axisValue, 'hi95'))) : '') },
        legend: { top: 4, right: 10, data: [tr('实际', 'Actual'), tr('预测', 'Forecast'), tr('95%区间', '95% band'), tr('80%区间', '80% band')] },
        grid: { left: 80, right: 30, top: 50, bottom: 30 },
        xAxis: { type: 'category', data: axis, boundaryGap: false },
        yAxis: { type: 'value', axisLabel: { formatter: (v) => num(v, 0) } },
        series: [
          { name: '_lo95', type: 'line', stack: 'b95', symbol: 'none', lineStyle: { opacity: 0 }, data: axis.map((m) => at(m, 'lo95')) },
          { name: tr('95%区间', '95% band'), type: 'line', stack: 'b95', symbol: 'none', lineStyle: { opacity: 0 }, areaStyle: { color: '#c6dbef' }, itemStyle: { color: '#c6dbef' }, data: band('lo95', 'hi95') },
          { name: '_lo80', type: 'line', stack: 'b80', symbol: 'none', lineStyle: { opacity: 0 }, data: axis.map((m) => at(m, 'lo80')) },
          { name: tr('80%区间', '80% band'), type: 'line', stack: 'b80', symbol: 'none', lineStyle: { opacity: 0 }, areaStyle: { color: '#9ecae1' }, itemStyle: { color: '#9ecae1' }, data: band('lo80', 'hi80') },
          { name: tr('实际', 'Actual'), type: 'line', itemStyle: { color: '#08519c' }, data: axis.map((m) => (actual.includes(m) ? Math.round(o.kwh_by_month[m]) : null)) },
          { name: tr('预测', 'Forecast'), type: 'line', lineStyle: { type: 'dashed' }, itemStyle: { color: '#e6550d' }, data: axis.map((m) => at(m, 'kwh')) },
        ],
      }));
      const totals = (id, rows, path) => el('div', { class: 'panel' },
        table(id, [tr('期间', 'Period'), tr('电量', 'Energy'), tr('实际月数', 'Actual months'), tr('预测月数', 'Forecast months'), tr('80%区间', '80% band'), tr('95%区间', '95% band')],
          rows.map((t) => cells([t.period + (t.truncated ? tr('（不完整）', ' (partial)') : ''), kwh(t.kwh), String(t.known_months), String(t.forecast_months),
            num(t.lo80) + '–' + num(t.hi80), num(t.lo95) + '–' + num(t.hi95)], [1, 2, 3], { 'data-period': t.period }))),
        el('div', { class: 'toolbar' }, GC.exportButton('/api/v1/forecast/demand', { region, scope: 'subtree', table: path }, id)));
      page.push(div,
        el('p', { class: 'muted', id: 'forecast-method' }, tr('方法：', 'Method: ') + f.method + tr('；预测起点 ', '; origin ') + f.origin +
          tr('；历史 ', '; history ') + f.history_months + tr(' 个月', ' months')),
        el('div', { class: 'grid2' }, totals('forecast-quarters', f.quarters, 'quarters'), totals('forecast-years', f.years, 'years')),
        el('div', { class: 'panel' }, table('forecast-months', [tr('月份', 'Month'), tr('预测电量', 'Forecast'), tr('80%区间', '80% band'), tr('95%区间', '95% band')],
          f.months.map((m) => cells([m.month, kwh(m.kwh), num(m.lo80) + '–' + num(m.hi80), num(m.lo95) + '–' + num(m.hi95)], [1], { 'data-month': m.month }))),
        el('div', { class: 'toolbar' }, GC.exportButton('/api/v1/forecast/demand', { region, scope: 'subtree' }, 'forecast'))));
    }

    // 2. Credit grades: the distribution by graded month and its change.
    page.push(el('h2', {}, tr('客户信用评价分布', 'Credit-grade distribution')));
    if (dist.err) page.push(failed('credit', dist));
    else {
      const ms = dist.ok.months;
      const div = el('div', { class: 'chart', id: 'chart-credit' });
      if (ms.length) {
        draws.push(() => chart(div, {
          title: { text: tr('各信用等级客户数', 'Customers by grade'), textStyle: { fontSize: 14 } }, tooltip: { trigger: 'axis' },
          legend: { top: 4, right: 10 }, grid: { left: 60, right: 20, top: 50, bottom: 30 },
          xAxis: { type: 'category', data: ms.map((m) => m.period) }, yAxis: { type: 'value' },
          series: ['A', 'B', 'C'].map((g, i) => ({ name: g, type: 'bar', stack: 'g', barMaxWidth: 80, itemStyle: { color: ['#31a354', '#fdae6b', '#de2d26'][i] }, data: ms.map((m) => m.by_grade[g] || 0) })),
        }));
      }
      page.push(ms.length ? div : null, el('div', { class: 'panel' },
        table('credit', [tr('评价月份', 'Month'), tr('客户数', 'Customers'), 'A', 'B', 'C', tr('A 占比变化', 'A share change'), tr('C 占比变化', 'C share change')],
          ms.slice().reverse().map((m) => cells([m.period, num(m.customers, 0),
            ...['A', 'B', 'C'].map((g) => num(m.by_grade[g] || 0, 0) + '（' + pct(m.share[g]) + '）'),
            m.share_change ? signed(m.share_change.A) : '—', m.share_change ? signed(m.share_change.C) : '—'], [1, 2, 3, 4, 5, 6], { 'data-period': m.period }))),
        el('div', { class: 'toolbar' }, GC.exportButton('/api/v1/credit/distribution', { region, scope: 'subtree' }, 'credit'))));
    }

    // 3. Warnings: abnormal consumption and churn, with the answers.
    const me = GC.session().user;
    const mayAck = ACK_ROLES.includes(me.role);
    const staffOpts = [['', tr('全部客户经理', 'Every account manager')]].concat(staff.ok ? staff.ok.items.map((s) => [s.id, s.name + '（' + s.staff_no + '）']) : []);
    if (manager && !staffOpts.some(([v]) => v === manager)) staffOpts.push([manager, manager]);
    page.push(el('h2', {}, tr('用电异常与流失预警', 'Abnormal consumption and churn warnings')),
      el('div', { class: 'toolbar', id: 'warning-filter' },
        el('span', {}, tr('客户经理：', 'Account manager: ')), select('filter-manager', 'manager', manager, staffOpts),
        el('span', {}, tr('状态：', 'Status: ')), select('filter-status', 'status', wstatus, ['open', 'acknowledged', 'dismissed', 'all'].map((s) => [s, status(s)])),
        el('span', {}, tr('异常范围：', 'Abnormal list: ')), select('filter-class', 'class', wclass, [['big', tr('大客户', 'Big customers')], ['all', tr('全部客户', 'Every customer')]])));
    // answer posts the account manager's answer and shows it in the row.
    const answer = (kind, w, st, cell, msg) => async (ev) => {
      const btns = cell.querySelectorAll('button');
      btns.forEach((b) => { b.disabled = true; });
      msg.textContent = '';
      try {
        await api('/api/v1/warning_acks', { method: 'POST', body: { customer_id: w.customer_id, kind, period: w.period, status: st } });
        cell.replaceChildren(el('span', { class: 'ok', 'data-status': st }, status(st)));
      } catch (e) {
        btns.forEach((b) => { b.disabled = false; });
        msg.textContent = (e.status === 403 ? tr('无权处理：', 'Not allowed: ') : tr('处理失败：', 'Failed: ')) + e.message;
      }
      ev.preventDefault();
    };
    const actions = (kind, w) => {
      const cell = el('td', { class: 'actions' });
      const msg = el('span', { class: 'error ack-error' });
      if (w.status !== 'open') cell.append(el('span', { 'data-status': w.status }, status(w.status)));
      else if (mayAck) {
        cell.append(el('button', { type: 'button', class: 'ack', 'data-ack': 'acknowledged' }, tr('确认', 'Acknowledge')),
          el('button', { type: 'button', class: 'dismiss', 'data-ack': 'dismissed' }, tr('忽略', 'Dismiss')), msg);
        cell.children[0].addEventListener('click', answer(kind, w, 'acknowledged', cell, msg));
        cell.children[1].addEventListener('click', answer(kind, w, 'dismissed', cell, msg));
      } else cell.append(el('span', {}, status(w.status)));
      return cell;
    };
    const staffName = (id) => { const s = staff.ok && staff.ok.items.find((x) => x.id === id); return s ? s.name : (id || '—'); };
    const wparams = (extra) => Object.assign({ region, scope: 'subtree', status: wstatus }, manager ? { manager_id: manager } : {}, extra || {});
    if (abn.err) page.push(failed('abnormal', abn));
    else {
      page.push(el('h3', {}, tr('用电异常', 'Abnormal consumption') + (abn.ok.period ? '（' + abn.ok.period + '）' : '')),
        el('div', { class: 'panel' }, table('abnormal', [tr('客户', 'Customer'), tr('区域', 'Region'), tr('类别', 'Category'), tr('原因', 'Reason'),
          tr('实际电量', 'Actual'), tr('预计电量', 'Expected'), tr('正常区间', 'Normal band'), tr('变化', 'Change'), tr('客户经理', 'Manager'), tr('处理', 'Answer')],
        abn.ok.warnings.map((w) => {
          const tr_ = cells([customerLink(w.customer_id, w.name), w.region, label('category', w.category), w.reasons.map(reason).join('；'),
            w.kwh == null ? '—' : kwh(w.kwh), w.expected_kwh == null ? '—' : kwh(w.expected_kwh),
            w.lo_kwh == null ? '—' : num(w.lo_kwh) + '–' + num(w.hi_kwh), signed(w.change), staffName(w.manager_id)], [4, 5, 6, 7],
          { 'data-id': w.id, 'data-customer': w.customer_id });
          tr_.append(actions('abnormal', w));
          return tr_;
        }), [4, 5, 6, 7]),
        abn.ok.next ? el('p', { class: 'muted', id: 'abnormal-more' }, tr('仅列出前 ' + abn.ok.limit + ' 条；更多请缩小范围或按客户经理查看', 'The first ' + abn.ok.limit + ' only; narrow the scope or pick a manager for the rest')) : null,
        el('div', { class: 'toolbar' }, GC.exportButton('/api/v1/warnings/abnormal', wparams({ class: wclass }), 'abnormal'))));
    }
    if (churn.err) page.push(failed('churn', churn));
    else {
      page.push(el('h3', {}, tr('流失预警', 'Churn warnings') + (churn.ok.period ? '（' + churn.ok.period + '）' : '')),
        el('div', { class: 'panel' }, table('churn', [tr('客户', 'Customer'), tr('区域', 'Region'), tr('类别', 'Category'), tr('流失风险', 'Churn risk'),
          tr('信用等级', 'Grade'), tr('原因', 'Reasons'), tr('客户经理', 'Manager'), tr('处理', 'Answer')],
        churn.ok.warnings.map((w) => {
          const tr_ = cells([customerLink(w.customer_id, w.name), w.region, label('category', w.category), pct(w.churn_risk), w.grade || '—',
            w.reasons.map(reason).join('；'), staffName(w.manager_id)], [3], { 'data-id': w.id, 'data-customer': w.customer_id });
          tr_.append(actions('churn', w));
          return tr_;
        }), [3]),
        churn.ok.more ? el('p', { class: 'muted', id: 'churn-more' }, tr('仅列出风险最高的 ' + churn.ok.limit + ' 户', 'The ' + churn.ok.limit + ' riskiest only')) : null,
        el('div', { class: 'toolbar' }, GC.exportButton('/api/v1/warnings/churn', wparams(), 'churn'))));
    }

    // 4. Prices per kWh by category or voltage class and month.
    page.push(el('h2', {}, tr('电价电费波动', 'Tariff and fees')),
      el('div', { class: 'toolbar' }, el('span', {}, tr('维度：', 'By: ')),
        select('filter-dim', 'dim', dim, [['category', tr('用电类别', 'Category')], ['voltage_class', tr('电压等级', 'Voltage class')]])));
    if (tariff.err) page.push(failed('tariff', tariff));
    else {
      const ps = tariff.ok.prices.slice().sort((a, b) => (a.month === b.month ? (a.value < b.value ? -1 : 1) : (a.month < b.month ? 1 : -1)));
      const values = [...new Set(ps.map((p) => p.value))].sort();
      const pm = [...new Set(ps.map((p) => p.month))].sort();
      const div = el('div', { class: 'chart', id: 'chart-tariff' });
      if (ps.length) {
        draws.push(() => chart(div, {
          title: { text: tr('平均电价（元/千瓦时）', 'Average price (yuan/kWh)'), textStyle: { fontSize: 14 } }, tooltip: { trigger: 'axis' },
          legend: { top: 4, right: 10 }, grid: { left: 60, right: 20, top: 50, bottom: 30 },
          xAxis: { type: 'category', data: pm }, yAxis: { type: 'value', scale: true },
          series: values.map((v) => ({ name: dimLabel(dim, v), type: 'line', data: pm.map((m) => { const p = ps.find((x) => x.value === v && x.month === m); return p ? p.yuan_per_kwh : null; }) })),
        }));
      }
      page.push(ps.length ? div : null, el('div', { class: 'panel' },
        table('tariff', [tr('月份', 'Month'), dim === 'voltage_class' ? tr('电压等级', 'Voltage class') : tr('用电类别', 'Category'), tr('电量', 'Energy'), tr('电费', 'Billed'),
          tr('平均电价', 'Price'), tr('环比', 'MoM'), tr('同比', 'YoY'), tr('电费同比减电量同比', 'Bill YoY less kWh YoY')],
        ps.map((p) => cells([p.month, dimLabel(dim, p.value), kwh(p.kwh), yuan(p.yuan), price(p.yuan_per_kwh), signed(p.mom), signed(p.yoy), signed(p.bill_vs_kwh)],
          [2, 3, 4, 5, 6, 7], { 'data-value': p.value, 'data-month': p.month })), [2, 3, 4, 5, 6, 7]),
        el('div', { class: 'toolbar' }, GC.exportButton('/api/v1/analysis/tariff', { region, scope: 'subtree', dim, from: latest ? addMonths(latest, -11) : '' }, 'tariff'))));
    }

    // 5. Market: sales by category and voltage year on year, peak/flat/valley.
    page.push(el('h2', {}, tr('市场分析', 'Market')));
    if (market.err) page.push(failed('market', market));
    else {
      const m = market.ok;
      const growth = (id, rows, d, tbl) => el('div', { class: 'panel' },
        table(id, [d === 'voltage_class' ? tr('电压等级', 'Voltage class') : tr('用电类别', 'Category'), tr('售电量', 'Sales'), tr('去年同月', 'A year before'), tr('同比', 'YoY'),
          tr('计费客户', 'Customers billed'), tr('客户同比', 'Customers YoY'), tr('电量占比', 'Share'), tr('去年占比', 'Share a year before')],
        rows.map((g) => cells([dimLabel(d, g.value), kwh(g.kwh), kwh(g.kwh_year_ago), signed(g.kwh_yoy), num(g.customers_billed, 0), signed(g.customers_yoy),
          pct(g.kwh_share), pct(g.kwh_share_year_ago)], [1, 2, 3, 4, 5, 6, 7], { 'data-value': g.value })), [1, 2, 3, 4, 5, 6, 7]),
        el('div', { class: 'toolbar' }, GC.exportButton('/api/v1/analysis/market', Object.assign({ region, scope: 'subtree', period: m.period }, tbl ? { table: tbl } : {}), id)));
      const tou = m.time_of_use || [];
      const div = el('div', { class: 'chart', id: 'chart-tou' });
      if (tou.length) {
        draws.push(() => chart(div, {
          title: { text: tr('峰平谷电量占比', 'Peak, flat and valley shares'), textStyle: { fontSize: 14 } }, tooltip: { trigger: 'axis' },
          legend: { top: 4, right: 10 }, grid: { left: 60, right: 20, top: 50, bottom: 30 },
          xAxis: { type: 'category', data: tou.map((t) => t.month) }, yAxis: { type: 'value', max: 1, axisLabel: { formatter: (v) => pct(v) } },
          series: [['peak', tr('峰', 'Peak'), '#de2d26'], ['flat', tr('平', 'Flat'), '#fdae6b'], ['valley', tr('谷', 'Valley'), '#3182bd']].map(([k, n, c]) =>
            ({ name: n, type: 'bar', stack: 't', itemStyle: { color: c }, data: tou.map((t) => t[k]) })),
        }));
      }
      page.push(el('p', { class: 'muted' }, tr('统计月份：', 'Month: ') + m.period),
        el('div', { class: 'grid2' }, growth('market-category', m.by_category, 'category', ''), growth('market-voltage', m.by_voltage_class, 'voltage_class', 'by_voltage_class')),
        m.by_industry ? el('div', { class: 'panel' }, table('market-industry', [tr('行业', 'Industry'), tr('客户数', 'Customers'), tr('近12个月电量', 'kWh, 12 months'),
          tr('前12个月电量', 'kWh, 12 before'), tr('增长', 'Growth'), tr('电量占比', 'Share')],
        m.by_industry.map((g) => cells([g.industry === 'unknown' ? tr('未填行业', 'Not known') : g.industry, num(g.customers, 0), kwh(g.kwh_12m), kwh(g.kwh_12m_prev),
          signed(g.growth), pct(g.kwh_share)], [1, 2, 3, 4, 5], { 'data-industry': g.industry })), [1, 2, 3, 4, 5]),
        el('div', { class: 'toolbar' }, GC.exportButton('/api/v1/analysis/market', { region, scope: 'subtree', period: m.period, table: 'by_industry' }, 'industry'))) : null,
        tou.length ? div : null,
        el('div', { class: 'panel' }, table('market-tou', [tr('月份', 'Month'), tr('峰', 'Peak'), tr('平', 'Flat'), tr('谷', 'Valley'), tr('分时计量电量', 'Time-of-use kWh'), tr('覆盖率', 'Coverage')],
          tou.slice().reverse().map((t) => cells([t.month, pct(t.peak), pct(t.flat), pct(t.valley), kwh(t.metered_kwh), t.coverage ? pct(t.coverage) : '—'], [1, 2, 3, 4, 5])), [1, 2, 3, 4, 5]),
        el('div', { class: 'toolbar' }, GC.exportButton('/api/v1/analysis/market', { region, scope: 'subtree', period: m.period, table: 'time_of_use' }, 'time-of-use'))));
    }

    // 6. Customer rankings (business customers, last 12 months against the 12 before).
    page.push(el('h2', {}, tr('客户排行', 'Customer rankings')),
      el('div', { class: 'toolbar' }, el('span', {}, tr('排行：', 'Rank: ')), select('filter-rank', 'rank', rank, Object.entries(RANKS).map(([k, v]) => [k, tr(v[0], v[1])]))));
    if (ranked.err) page.push(failed('ranking', ranked));
    else {
      page.push(el('p', { class: 'muted' }, tr('月份：', 'Month: ') + (ranked.ok.period || '—') + tr('；近12个月与前12个月相比（工商业客户）', '; the last 12 months against the 12 before (business customers)')),
        el('div', { class: 'panel' }, table('ranking', [tr('客户', 'Customer'), tr('类别', 'Category'), tr('近12个月电量', 'kWh, 12 months'), tr('前12个月电量', 'kWh, 12 before'),
          tr('电量增长', 'kWh growth'), tr('电费增长', 'Bill growth'), tr('电费减电量增长', 'Bill less kWh growth'), tr('原因', 'Reason'), tr('峰段占比', 'Peak share')],
        ranked.ok.customers.map((c) => cells([customerLink(c.customer_id, c.name), label('category', c.category), kwh(c.kwh_12m), kwh(c.kwh_12m_prev), signed(c.growth),
          signed(c.bill_growth), signed(c.bill_vs_kwh), c.bill_reason ? reason(c.bill_reason) : '—', pct(c.peak_share)], [2, 3, 4, 5, 6, 8], { 'data-customer': c.customer_id })),
        [2, 3, 4, 5, 6, 8]),
        el('div', { class: 'toolbar' }, GC.exportButton('/api/v1/analysis/customers', { region, scope: 'subtree', rank, period: ranked.ok.period || '' }, 'ranking'))));
    }

    show(...page.filter(Boolean)); // throws when a newer page has started
    draws.forEach((d) => d());
  }

  GC.page('analytics', (show, parts, params) => analytics(show, parts[1] || homeRegion(), params));
})();
