cd /work/main/runs
G=/work/main/target/release/genrec
d=${D:-a23}; init=$(ls -d /work/main/runs/ck-$d/$d/step-* | tail -1)
for arm in R C; do
  ck=/work/main/runs/rf-$d-$arm; rm -rf $ck; mkdir -p $ck
  if [ $arm = R ]; then export GENREC_THROUGH_VALID=1; else unset GENREC_THROUGH_VALID; fi
  /usr/bin/time -f "%e s" $G train -d $d --task generate --set run.checkpoints=\"$ck\" --set run.init_from=\"$init\" --max-steps ${STEPS:-300} --eval-every ${STEPS:-300} --set optim.lr=0.001 --set optim.warmup_steps=1 > $ck.log 2>&1
  echo "$arm rc $?"; tail -n 2 $ck.log
done
