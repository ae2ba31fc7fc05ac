// gridcrm console page: 管理 management of the regions below (see console/doc.go; helpers in core.js).
// For admins at a city or the province: each child's mode and epoch and a
// way to change it (confirmed in an in-page dialog that says what a forced
// takeover means), the commands forwarded down still pending, and the open
// conflicts side by side (the child's and the parent's version, who and
// when, the differing fields marked) with keep-child / keep-parent / merge.
// Everything comes from GET /api/v1/management, which refuses others.
'use strict';
(function () {
  const { el, when, label, api, route } = window.GC;

  // ---------- who sees the nav link ----------
  // The header link shows for admins whose region (the deeper of the
  // node's and theirs) is a city or the province; the API refuses others.
  function mayManage() {
    const s = GC.session();
    if (!s || !s.user || !s.node || s.user.role !== 'admin') return false;
    const a = s.node.region, b = s.user.region || a;
    return (b.length > a.length ? b : a).length < 6;
  }
  function syncNav() {
    const a = document.querySelector('[data-nav="management"]');
    if (a) a.hidden = !mayManage();
  }
  // core.js writes #whoami on every route: follow it (login, logout, user change).
  const who = document.getElementById('whoami');
  if (who) new MutationObserver(syncNav).observe(who, { childList: true, characterData: true, subtree: true });
  syncNav();

  const MODES = { autonomous: '自治', partial: '部分管理', full: '集中管理' };
  const COLLS = ['customers', 'bills', 'contacts', 'interactions', 'work_orders', 'projects', 'outages', 'key_projects',
    'service_plans', 'service_memos', 'vip_services', 'service_requests', 'pool_entries', 'gold_assignments'];
  const META = ['id', 'owner', 'version', 'created_at', 'updated_at', 'created_by', 'updated_by'];
  const nm = (r) => (r.name ? r.name + ' ' : '') + r.region;
  const FIELDS = { account_no: '户号', name: '名称', address: '地址', category: '类别', capacity_kva: '容量（千伏安）', voltage_kv: '电压（千伏）',
    region: '区域', status: '状态', phone: '电话', tags: '标签', feeder: '线路', transformer_area: '台区', industry: '行业', grid: '网格',
    subject: '主题', title: '标题', state: '状态', customer_id: '客户', description: '描述', kind: '类型' };

  // ---------- the confirmation dialog ----------
  // An in-page <dialog> (window.confirm would block and cannot be styled);
  // answers a promise of true (confirmed) or false.
  function confirmDialog(title, lines, okText) {
    return new Promise((resolve) => {
      const ok = el('button', { type: 'button', id: 'confirm-ok', class: 'danger' }, okText || '确认');
      const cancel = el('button', { type: 'button', id: 'confirm-cancel' }, '取消');
      const d = el('dialog', { id: 'confirm-dialog', class: 'confirm' },
        el('h2', {}, title), lines.map((l) => el('p', {}, l)), el('div', { class: 'toolbar' }, ok, cancel));
      const done = (v) => { d.close(); d.remove(); resolve(v); };
      ok.addEventListener('click', () => done(true));
      cancel.addEventListener('click', () => done(false));
      d.addEventListener('cancel', (ev) => { ev.preventDefault(); done(false); });
      document.body.append(d);
      d.showModal();
    });
  }

  function explain(child, mode, force, colls) {
    const who = nm(child);
    if (mode === 'autonomous') {
      return ['将把 ' + who + ' 交还自治：该区域重新写入自己的记录，本级只读取汇总。',
        '交还要等该区域确认；仍有未决冲突时会被拒绝，请先处理冲突。'];
    }
    if (mode === 'partial') {
      return ['将对 ' + who + ' 实行部分管理，授权集合：' + (colls.length ? colls.join('、') : '（无）') + '。',
        '本级对这些集合中该区域记录的写入将作为指令下发，由该区域以自己的名义执行并返回结果；联系中断时指令排队，恢复后按序执行。'];
    }
    if (!force) {
      return ['将对 ' + who + ' 实行集中管理（接管）：纪元加一，该区域应用此设置后即转为只读，',
        '待其确认回传（排在它之前的全部写入之后）后，由本级写入该区域的记录。记录仍归该区域所有并下发给它。'];
    }
    return ['强制接管 ' + who + '：不等待该区域确认，本级立即成为其记录的写入方（纪元加一）。',
      '该区域若仍在运行但与本级失联，会在不知情的情况下继续写入。恢复联系后，它在旧纪元下做出的每一次写入都不会被应用，也不会被丢弃，而是作为冲突保存在本级（双方版本、修改人、时间）。',
      '每个冲突都须由管理员选择保留下级、保留上级或逐字段合并；有未决冲突时不能交还自治。仅在该区域确实无法联系时使用。'];
  }

  // ---------- the page ----------
  let flash = null; // the last action's outcome, shown once more after the re-render
  async function management(show) {
    const m = await api('/api/v1/management');
    if (!m.manages) throw new GC.APIError(403, { error: { message: m.reason || '本区域没有下级区域可管理' } });
    const msg = el('p', { id: 'manage-msg', class: 'muted', role: 'status' });
    // say writes the outcome of an action; it stays through the re-render that follows.
    const say = (text, bad, keep) => { msg.textContent = text; msg.className = bad ? 'error' : 'ok'; flash = keep ? { text, bad } : null; };
    if (flash) { msg.textContent = flash.text; msg.className = flash.bad ? 'error' : 'ok'; flash = null; }
    const table = (id, heads, rows, empty) => rows.length === 0 ? el('p', { class: 'muted', id }, empty)
      : el('div', { class: 'panel' }, el('table', { id }, el('thead', {}, el('tr', {}, heads.map((h) => el('th', {}, h)))), el('tbody', {}, rows)));

    const childRow = (ch) => {
      const mode = el('select', { name: 'mode', 'aria-label': '管理模式' },
        Object.entries(MODES).map(([k, v]) => el('option', { value: k, selected: ch.mode === k }, v)));
      const force = el('input', { type: 'checkbox', name: 'force' });
      const colls = el('select', { name: 'collections', multiple: true, size: 3, 'aria-label': '授权集合' },
        COLLS.map((c) => el('option', { value: c, selected: (ch.collections || []).includes(c) }, c)));
      const forceLbl = el('label', {}, force, ' 强制');
      const sync = () => { forceLbl.hidden = mode.value !== 'full'; colls.hidden = mode.value !== 'partial'; };
      mode.addEventListener('change', sync);
      sync();
      const apply = el('button', { type: 'button', class: 'set-mode' }, '更改');
      apply.addEventListener('click', async () => {
        const chosen = [...colls.selectedOptions].map((o) => o.value);
        const f = mode.value === 'full' && force.checked;
        const ok = await confirmDialog(f ? '确认强制接管' : '确认更改管理模式', explain(ch, mode.value, f, chosen), f ? '强制接管' : '确认');
        if (!ok) { say('已取消。'); return; }
        const body = { mode: mode.value };
        if (mode.value === 'partial') body.collections = chosen;
        if (f) body.force = true;
        try {
          const r = await api('/api/v1/regions/' + encodeURIComponent(ch.region) + '/management', { method: 'PUT', body });
          say(nm(ch) + ' 已设为' + label('mode', r.mode) + '，纪元 ' + r.epoch + '。', false, true);
          setTimeout(route, 600);
        } catch (e) {
          say('未能更改：' + e.message, true);
        }
      });
      return el('tr', { 'data-region': ch.region },
        el('td', {}, nm(ch)), el('td', {}, label('mode', ch.mode) + (ch.forced ? '（强制）' : '')), el('td', { class: 'num' }, String(ch.epoch)),
        el('td', { class: 'num' }, String(ch.acked_epoch)), el('td', { class: ch.writer ? '' : 'stale' }, ch.writer || '交接中'),
        el('td', {}, (ch.collections || []).join('、') || '—'), el('td', { class: ch.pending_commands ? 'stale num' : 'num' }, String(ch.pending_commands)),
        el('td', { class: ch.open_conflicts ? 'stale num' : 'num' }, String(ch.open_conflicts)),
        el('td', {}, ch.set_by ? ch.set_by + ' · ' + when(ch.set_at) : '—'),
        el('td', { class: 'actions' }, mode, colls, forceLbl, apply));
    };

    const pendingRow = (c) => el('tr', { 'data-id': c.id },
      el('td', {}, c.id), el('td', {}, c.region), el('td', {}, ({ create: '新建', update: '修改', replace: '替换', delete: '删除', action: '流程操作' })[c.op] || c.op), el('td', {}, c.coll || '—'), el('td', {}, c.record_id || '—'),
      el('td', {}, c.actor || '—'), el('td', {}, when(c.at)));

    show(
      el('h1', { id: 'page-title' }, '管理 · ' + nm(m)),
      el('p', { class: 'muted' }, '本级对下级区域的管理模式、下发中的指令和强制接管留下的冲突。更改模式前会请您确认。'),
      msg,
      el('h2', {}, '下级区域'),
      table('children', ['区域', '模式', '纪元', '已确认纪元', '写入方', '授权集合', '待执行指令', '未决冲突', '设置人 · 时间', '更改为'],
        m.children.map(childRow), '没有下级区域。'),
      el('h2', {}, '待执行指令（' + m.pending_count + '）'),
      table('pending', ['指令', '区域', '操作', '集合', '记录', '发起人', '时间'], m.pending_commands.map(pendingRow), '没有待执行的指令。'),
      el('h2', {}, '未决冲突（' + m.conflict_count + '）'),
      m.conflicts.length === 0 ? el('p', { class: 'muted', id: 'conflicts' }, '没有未决冲突。')
        : el('div', { id: 'conflicts' }, m.conflicts.map((c) => conflictPanel(c, say))),
    );
  }

  // ---------- one conflict, side by side ----------
  const CODED = { category: 'category', status: 'status', state: 'woState', type: 'outage' }; // fields whose codes core.js names
  const show1 = (v, f) => (v === undefined ? '（无此字段）' : v === null ? '（空）' : typeof v === 'object' ? JSON.stringify(v)
    : CODED[f] && GC.L[CODED[f]] && GC.L[CODED[f]][v] ? GC.L[CODED[f]][v] + '（' + v + '）' : String(v));
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

  function conflictPanel(c, say) {
    const child = c.child || null, parent = c.parent || null;
    const fields = [...new Set([...Object.keys(child || {}), ...Object.keys(parent || {})])].filter((f) => !META.includes(f)).sort();
    const canMerge = child && parent;
    const picks = {};
    const rows = fields.map((f) => {
      const a = child ? child[f] : undefined, b = parent ? parent[f] : undefined;
      const diff = !same(a, b);
      let pick = el('td', {}, '');
      if (diff && canMerge) {
        const name = 'pick-' + c.id + '-' + f;
        const rc = el('input', { type: 'radio', name, value: 'child' }), rp = el('input', { type: 'radio', name, value: 'parent', checked: true });
        picks[f] = () => (rc.checked ? 'child' : 'parent');
        pick = el('td', { class: 'pick' }, el('label', {}, rc, ' 下级'), ' ', el('label', {}, rp, ' 上级'));
      }
      return el('tr', { class: diff ? 'diff' : '', 'data-field': f }, el('th', {}, FIELDS[f] ? FIELDS[f] + '（' + f + '）' : f), el('td', { class: 'child' }, show1(a, f)),
        el('td', { class: 'parent' }, show1(b, f)), pick);
    });
    const resolve = async (keep, body) => {
      try {
        await api('/api/v1/conflicts/resolve', { method: 'POST', body: Object.assign({ id: c.id, keep }, body ? { body } : {}) });
        say('冲突 ' + c.id + ' 已处理：' + { child: '保留下级版本', parent: '保留上级版本', merged: '合并' }[keep] + '。', false, true);
        setTimeout(route, 600);
      } catch (e) {
        say('未能处理冲突 ' + c.id + '：' + e.message, true);
      }
    };
    const merged = () => {
      const out = {};
      for (const f of fields) {
        const src = picks[f] ? (picks[f]() === 'child' ? child : parent) : parent;
        if (src && src[f] !== undefined) out[f] = src[f];
      }
      return out;
    };
    const who = (by, at) => (by || '未知') + ' · ' + when(at);
    return el('section', { class: 'panel conflict', 'data-id': c.id, 'data-key': c.key },
      el('h3', {}, '记录 ' + c.key + ' · 区域 ' + c.region + ' · 强制接管纪元 ' + c.epoch),
      el('table', { class: 'sidebyside' },
        el('thead', {}, el('tr', {}, el('th', {}, '字段'),
          el('th', {}, '下级版本（' + (child ? who(c.child_by, c.child_at) : '下级已删除') + '）'),
          el('th', {}, '上级版本（' + (parent ? who(parent.updated_by, parent.updated_at) : '上级无此记录') + '）'),
          el('th', {}, canMerge ? '合并取值' : ''))),
        el('tbody', {}, rows)),
      el('p', { class: 'muted' }, '标红的字段两版不同。' + (canMerge ? '合并时逐字段选择取下级或上级的值。' : '一方没有此记录，不能合并。')),
      el('div', { class: 'toolbar' },
        el('button', { type: 'button', class: 'keep-child', onclick: () => resolve('child') }, '保留下级版本'),
        el('button', { type: 'button', class: 'keep-parent', onclick: () => resolve('parent') }, '保留上级版本'),
        canMerge ? el('button', { type: 'button', class: 'merge', onclick: () => resolve('merged', merged()) }, '按所选合并') : null));
  }

  GC.page('management', (show) => management(show));
})();
