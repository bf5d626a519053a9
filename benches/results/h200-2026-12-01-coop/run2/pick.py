import json,sys,glob
best=None
for f in sorted(glob.glob('/tmp/cfg_*.json')):
    cfg=f[len('/tmp/cfg_'):-5]
    try: rows=json.load(open(f))
    except Exception as e: print(cfg,'unreadable',e); continue
    if isinstance(rows,dict): rows=rows.get('rows',rows.get('results',[]))
    for r in rows:
        if r.get('op')=='matmul_f16' and r.get('shape')=='8192x8192x8192':
            print(cfg, r['median_ms'], r['gflops'])
            if best is None or r['gflops']>best[1]: best=(cfg,r['gflops'])
print('BEST', best[0] if best else '2x4x2x0')
