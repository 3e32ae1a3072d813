cd /work/main/runs
for d in short a23 yelp; do
  ck=/work/main/runs/dump-$d; rm -rf $ck; mkdir -p $ck; cp -r ck-$d/$d $ck/$d
  GENREC_DUMP_POOLS=/work/main/runs/pools-$d-valid.jsonl /work/main/target/release/genrec train -d $d --task verify --set run.checkpoints=\"$ck\" > $ck.log 2>&1
  echo "$d rc $?"; grep "^blend of" $ck.log | head -1 | cut -c1-300
done
