// gridcrm console page: 审计 the audit trail (see console/doc.go; helpers in core.js).
// For auditors (their home page: they read nothing else) and admins: the
// entries of the node's subtree from GET /api/v1/audit (filters and a
// cursor), the chains' check from GET /api/v1/audit/verify, and the
// filtered entries as CSV or NDJSON from GET /api/v1/audit/export.
'use strict';
(function () {
  const { el, when, api, tr } = window.GC;

  const FILTERS = [['region', '区域', 'Region', 8], ['user', '用户', 'User', 10], ['collection', '集合', 'Collection', 12],
    ['record', '记录', 'Record', 16], ['from', '自', 'From', 10], ['to', '至', 'To', 10]];
  const OUTCOMES = { '': ['全部', 'All'], ok: ['成功', 'OK'], forbidden: ['拒绝（权限）', 'Forbidden'], invalid: ['拒绝（输入）', 'Invalid'],
    unauthenticated: ['未认证', 'Unauthenticated'] };

  async function audit(show, params) {
    const inputs = {};
    const form = el('form', { class: 'toolbar', id: 'audit-filter' },
      FILTERS.map(([k, zh, en, size]) => el('label', {}, tr(zh, en) + ' ',
        inputs[k] = el('input', { name: k, value: params.get(k) || '', size, placeholder: k === 'from' || k === 'to' ? '2026-12-01' : '' }))),
      el('label', {}, tr('结果', 'Outcome') + ' ', inputs.outcome = el('select', { name: 'outcome' },
        Object.entries(OUTCOMES).map(([k, [zh, en]]) => el('option', { value: k, selected: (params.get('outcome') || '') === k }, tr(zh, en))))),
      el('button', { type: 'submit' }, tr('查询', 'Search')));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const q = new URLSearchParams();
      for (const [k, i] of Object.entries(inputs)) if (i.value.trim()) q.set(k, i.value.trim());
      location.hash = '#/audit?' + q.toString();
    });
    const q = new URLSearchParams({ limit: '100' });
    for (const k of ['region', 'user', 'collection', 'record', 'outcome', 'from', 'to', 'cursor']) if (params.get(k)) q.set(k, params.get(k));
    const page = await api('/api/v1/audit?' + q.toString());
    const exp = new URLSearchParams(q); exp.delete('limit'); exp.delete('cursor');
    const csv = new URLSearchParams(exp); csv.set('format', 'csv');
    const next = new URLSearchParams(params); if (page.next) next.set('cursor', page.next);

    const verifyOut = el('div', { id: 'audit-verify' });
    const verify = el('button', { type: 'button', id: 'verify' }, tr('校验哈希链', 'Verify the chains'));
    verify.addEventListener('click', async () => {
      verify.disabled = true;
      verifyOut.replaceChildren(el('p', { class: 'muted' }, tr('正在校验…', 'Verifying…')));
      try {
        const v = await api('/api/v1/audit/verify' + (params.get('region') ? '?region=' + encodeURIComponent(params.get('region')) : ''));
        verifyOut.replaceChildren(
          el('p', { class: v.ok ? 'ok' : 'error', id: 'verify-result' }, v.ok ? tr('全部哈希链完整。', 'Every chain is intact.') : tr('发现问题：', 'Problems found:')),
          el('table', {}, el('thead', {}, el('tr', {}, [tr('区域', 'Region'), tr('条目', 'Entries'), tr('链尾', 'Head'), tr('状态', 'State'), tr('问题', 'Problems')].map((h) => el('th', {}, h)))),
            el('tbody', {}, (v.chains || []).map((ch) => el('tr', { 'data-chain': ch.region },
              el('td', {}, ch.region), el('td', { class: 'num' }, String(ch.entries)), el('td', { class: 'num' }, String(ch.head)),
              el('td', { class: ch.ok ? '' : 'stale' }, ch.ok ? tr('完整', 'intact') : tr('有问题', 'broken')),
              el('td', {}, (ch.problems || []).map((p) => '#' + p.seq + ' ' + p.what).join('；')))))));
      } catch (e) {
        verifyOut.replaceChildren(el('p', { class: 'error' }, tr('校验失败：', 'Verification failed: ') + e.message));
      } finally {
        verify.disabled = false;
      }
    });

    const items = page.items || [];
    show(
      el('h1', { id: 'page-title' }, tr('审计日志', 'Audit trail')),
      el('p', { class: 'muted' }, tr('每一次写入、导出、备份和登录都记入其区域的哈希链，只增不删；上级汇总下级的审计日志。',
        'Every write, export, backup and login is appended to its region\'s hash chain; nothing deletes an entry; upper tiers hold their subtree\'s.')),
      form,
      el('div', { class: 'toolbar' }, verify,
        el('a', { href: '/api/v1/audit/export?' + csv.toString(), download: 'audit.csv', id: 'audit-csv' }, tr('导出 CSV', 'Export CSV')),
        el('a', { href: '/api/v1/audit/export?' + exp.toString(), download: 'audit.ndjson', id: 'audit-ndjson' }, tr('导出 NDJSON（可逐行校验）', 'Export NDJSON (each line verifies)'))),
      verifyOut,
      el('div', { class: 'panel' }, el('table', { id: 'audit' },
        el('thead', {}, el('tr', {}, [tr('时间', 'Time'), tr('用户', 'User'), tr('角色', 'Role'), tr('链', 'Chain'), tr('请求', 'Request'),
          tr('记录', 'Record'), tr('版本', 'Version'), tr('结果', 'Outcome'), tr('来源', 'Source')].map((h) => el('th', {}, h)))),
        el('tbody', {}, items.length === 0 ? el('tr', {}, el('td', { colspan: 9, class: 'muted' }, tr('没有符合条件的条目。', 'No entry matches.')))
          : items.map((e) => el('tr', { 'data-id': e.id },
            el('td', {}, when(e.at)), el('td', {}, e.user + (e.user_region ? '@' + e.user_region : '')), el('td', {}, e.role || ''),
            el('td', {}, e.owner + ' #' + e.seq), el('td', {}, e.route || e.op || ''),
            el('td', {}, [e.collection, e.record].filter(Boolean).join('/') + (e.rows ? ' ×' + e.rows : '')),
            el('td', {}, e.version_after ? (e.version_before || 0) + '→' + e.version_after : ''),
            el('td', { class: e.outcome === 'ok' ? '' : 'stale' }, e.outcome), el('td', {}, e.source || '')))))),
      el('div', { class: 'toolbar' }, params.get('cursor') ? el('button', { type: 'button', onclick: () => history.back() }, tr('← 上一页', '← Previous')) : null,
        page.next ? el('a', { href: '#/audit?' + next.toString(), id: 'next-page' }, tr('下一页 →', 'Next →')) : null),
    );
  }
  GC.page('audit', (show, parts, params) => audit(show, params));
})();
