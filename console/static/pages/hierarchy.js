// gridcrm console page: 层级 hierarchy and health (see console/doc.go; helpers in core.js).
'use strict';
(function () {
  const { el, num, kwh, yuan, pct, age, when, L, label, api, chart, homeRegion,
    addMonths, range, sum, PERIODS, periodMonths, change, changeSpan, route } = window.GC;
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
      el('h2', {}, '各区域（本节点所持副本）'), el('div', { class: 'toolbar' }, GC.exportButton('/api/v1/ops/regions', {}, '各区域')),
      table('regions', ['区域', '主节点', '任期', '管理模式', '纪元', '写入方', '待回执指令', '未决冲突', '心跳'],
        (regs.regions || []).map((r) => el('tr', { 'data-region': r.region }, td(nm(r.region)), td(r.leader || '—', !r.leader), td(String(r.term)),
          td(label('mode', r.mode)), td(String(r.epoch)), td(r.writer ? nm(r.writer) : '交接中', !r.writer), td(String(r.pending_commands), r.pending_commands > 0),
          td(String(r.open_conflicts), r.open_conflicts > 0), td(age(r.heartbeat_age_seconds), r.heartbeat_age_seconds > 60)))),
      el('h2', {}, '层间链路'), el('div', { class: 'toolbar' }, GC.exportButton('/api/v1/sync/status', {}, '层间链路')),
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

  GC.page('hierarchy', (show) => hierarchy(show));
})();
