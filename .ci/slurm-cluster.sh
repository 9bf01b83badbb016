#!/usr/bin/env bash
# A one-node SLURM cluster on localhost, for tests/test_slurm.py: the workflow's SLURM profile runs for real.
#
#   bash .ci/slurm-cluster.sh up      install Debian's SLURM (once) and start munge, MariaDB, slurmdbd,
#                                     slurmctld and slurmd; idempotent: what already runs is left alone
#   bash .ci/slurm-cluster.sh down    stop them
#   bash .ci/slurm-cluster.sh status  exit 0 when the node takes jobs
#   bash .ci/slurm-cluster.sh config  write the configuration only and say whether it changed: no root, no
#                                     packages, no daemons (tests/test_ci_cluster.py runs it on empty folders)
#
# SLKD_CI_SLURM_ETC (default /etc/slurm) and SLKD_CI_STATE (default /var/lib/slkd-ci) move the configuration
# and the state elsewhere; the daemons then read it through SLURM_CONF. On any failure the script names the
# command, its line and exit status, and prints the output that it would otherwise have kept quiet.
#
# Needs root and no systemd: every daemon is started directly. The node has the machine's CPUs, a partition
# `gpu` and two fake GPUs (GRES `gpu` whose files are links to /dev/null and /dev/zero, told apart by their
# device numbers: jobs that ask for `--gpus=1` are scheduled and get CUDA_VISIBLE_DEVICES, and sacct records
# gres/gpu). Each fake GPU is also cut into SHARDS shards (GRES `shard`, SLURM's GPU sharing: a job that asks
# for `--gres=shard:1` gets its GPU's index in CUDA_VISIBLE_DEVICES and SLURM_SHARDS_ON_NODE=1, and shares that
# GPU with up to SHARDS-1 others; SLURM 22.05's controller spreads a node's shards evenly over its GPUs,
# whatever gres.conf's File says), and the node declares at least SHARDS CPUs (SlurmdParameters=config_overrides
# on a machine with fewer) so that SHARDS one-CPU jobs can share a GPU at once. Accounting (slurmdbd on MariaDB at
# 127.0.0.1) is on because snakemake-executor-plugin-slurm polls job states with sacct; the account `ci`
# holds user root. Every probe runs under `timeout`: a cluster that does not answer fails, never hangs.
set -Eeuo pipefail

CLUSTER=slkdci
ACCOUNT=ci
PARTITION=gpu
SHARDS=4  # shards of each fake GPU
ETC=${SLKD_CI_SLURM_ETC:-/etc/slurm}
STATE=${SLKD_CI_STATE:-/var/lib/slkd-ci}  # fake GPU device files, the database password
LOGS=/var/log/slurm
DB_PASS_FILE=$STATE/db-password
CONFIG_FILES=("$ETC/slurm.conf" "$ETC/gres.conf" "$ETC/slurmdbd.conf")
PACKAGES=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server)
[[ $ETC == /etc/slurm ]] || export SLURM_CONF=$ETC/slurm.conf

log() { echo "slurm-cluster: $*" >&2; }
# set -e alone ends the script without a word: say which command failed, where (the chain of calls), and how.
on_error() {
    local rc=$? command=$BASH_COMMAND chain="" i
    for ((i = 1; i < ${#FUNCNAME[@]}; i++)); do chain+=" <- ${FUNCNAME[i]} (line ${BASH_LINENO[i - 1]})"; done
    log "failed (exit $rc): $command${chain}"
    exit "$rc"
}
trap on_error ERR

quiet() {  # quiet COMMAND...: run it with its output kept aside, shown only when it fails
    local out status=0
    out=$(mktemp)
    "$@" >"$out" 2>&1 || status=$?
    if ((status)); then
        log "failed (exit $status): $* <- ${FUNCNAME[1]} (line ${BASH_LINENO[0]}); its output:"
        sed 's/^/    /' "$out" >&2
        rm -f "$out"
        exit "$status"
    fi
    rm -f "$out"
}
probe() { timeout -k 2 10 "$@" >/dev/null 2>&1; }
running() { pgrep -x "$1" >/dev/null 2>&1; }

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
    local seconds=$1 what=$2
    shift 2
    for _ in $(seq "$seconds"); do
        if probe "$@"; then return 0; fi
        sleep 1
    done
    log "no $what after ${seconds}s; the last try, '$*', says:"
    timeout -k 2 10 "$@" 2>&1 | sed 's/^/    /' >&2 || true
    show_logs
    return 1
}

show_logs() {  # the daemons' own words, for a failure that is theirs
    local file
    for file in "$LOGS"/*.log; do
        [[ -s $file ]] || continue
        log "the end of $file:"
        tail -n 15 "$file" | sed 's/^/    /' >&2
    done
}

install_packages() {
    local missing=()
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        log "installing ${missing[*]}"
        quiet apt-get update -qq
        DEBIAN_FRONTEND=noninteractive quiet apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
}

write_config() {
    local host cpus mem
    host=$(hostname -s)
    cpus=$(nproc)
    ((cpus >= SHARDS)) || cpus=$SHARDS
    mem=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 3 / 4))
    mkdir -p "$ETC" "$STATE"
    ln -sfn /dev/null "$STATE/gpu0"
    ln -sfn /dev/zero "$STATE/gpu1"
    [[ -s $DB_PASS_FILE ]] || (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$DB_PASS_FILE")

    cat >"$ETC/slurm.conf" <<EOF
# Written by .ci/slurm-cluster.sh: a one-node test cluster.
ClusterName=$CLUSTER
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
GresTypes=gpu,shard
SlurmdParameters=config_overrides
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageTRES=gres/gpu,gres/shard
AccountingStorageEnforce=associations
AccountingStoreFlags=job_comment
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=300
NodeName=$host CPUs=$cpus RealMemory=$mem Gres=gpu:2,shard:$((2 * SHARDS)) State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    cat >"$ETC/gres.conf" <<EOF
# gpu0 -> /dev/null, gpu1 -> /dev/zero
NodeName=$host Name=gpu File=$STATE/gpu[0-1]
NodeName=$host Name=shard Count=$((2 * SHARDS)) File=$STATE/gpu[0-1]
EOF
    cat >"$ETC/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
SlurmUser=root
LogFile=$LOGS/slurmdbd.log
PidFile=/run/slurm/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StorageUser=slurm
StoragePass=$(cat "$DB_PASS_FILE")
StorageLoc=slurm_acct_db
EOF
    chmod 600 "$ETC/slurmdbd.conf"
}

start_munge() {
    running munged && return 0
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    if [[ ! -s /etc/munge/munge.key ]]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
    runuser -u munge -- /usr/sbin/munged
    wait_for 10 munge munge -n
}

start_mariadb() {
    if ! running mariadbd; then
        mkdir -p /run/mysqld
        chown mysql:mysql /run/mysqld
        [[ -d /var/lib/mysql/mysql ]] || quiet mariadb-install-db --user=mysql --datadir=/var/lib/mysql
        (setsid mariadbd --user=mysql --bind-address=127.0.0.1 >"$LOGS/mariadb.log" 2>&1 &)
        wait_for 30 MariaDB mariadb -e "SELECT 1"
    fi
    mariadb <<EOF
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$(cat "$DB_PASS_FILE")';
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$(cat "$DB_PASS_FILE")';
ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$(cat "$DB_PASS_FILE")';
ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$(cat "$DB_PASS_FILE")';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
EOF
}

start_slurmdbd() {
    running slurmdbd || slurmdbd
    wait_for 30 slurmdbd sacctmgr -n show cluster
    sacctmgr -n show cluster format=cluster%30 | grep -qw "$CLUSTER" || quiet sacctmgr -i add cluster "$CLUSTER"
    sacctmgr -n show account format=account%30 | grep -qw "$ACCOUNT" \
        || quiet sacctmgr -i add account "$ACCOUNT" Cluster="$CLUSTER" Description="slkd-workflow CI"
    sacctmgr -n show assoc where user=root account="$ACCOUNT" format=account%30 | grep -qw "$ACCOUNT" \
        || quiet sacctmgr -i add user root Account="$ACCOUNT" Cluster="$CLUSTER"
}

start_slurm() {
    running slurmctld || slurmctld
    wait_for 30 slurmctld scontrol ping
    running slurmd || slurmd
    local host
    host=$(hostname -s)
    for _ in $(seq 30); do
        state=$(timeout 10 sinfo -h -n "$host" -o %t 2>/dev/null || true)
        case $state in
            idle* | mix* | alloc*) return 0 ;;
            inval* | drain* | down*) probe scontrol update nodename="$host" state=resume ;;
        esac
        sleep 1
    done
    log "node $host is not idle (state: ${state:-unknown})"
    show_logs
    return 1
}

# The configuration's checksum; files not written yet (a fresh machine) count as empty.
config_sum() {
    local file
    for file in "${CONFIG_FILES[@]}"; do
        if [[ -f $file ]]; then cat -- "$file"; fi
        echo "== $file"
    done | md5sum
}

CHANGED=
configure() {  # write the configuration; CHANGED=yes when that changed it (never call it as a condition:
    local before  # set -e does not act inside one, and a failed write would go unnoticed)
    before=$(config_sum)
    write_config
    CHANGED=no
    [[ $(config_sum) == "$before" ]] || CHANGED=yes
}

config() {
    configure
    if [[ $CHANGED == yes ]]; then echo "changed: ${CONFIG_FILES[*]}"; else echo "unchanged: ${CONFIG_FILES[*]}"; fi
}

up() {
    install_packages
    mkdir -p "$LOGS" /var/spool/slurmctld /var/spool/slurmd /run/slurm
    configure
    if [[ $CHANGED == yes ]]; then  # a changed configuration needs fresh SLURM daemons
        for daemon in slurmd slurmctld slurmdbd; do pkill -x "$daemon" 2>/dev/null || true; done
        for _ in $(seq 20); do running slurmd || running slurmctld || running slurmdbd || break; sleep 0.5; done
    fi
    start_munge
    start_mariadb
    start_slurmdbd
    start_slurm
    log "up: partition $PARTITION, account $ACCOUNT, $(nproc) CPUs, 2 GPUs (fake), $SHARDS shards each"
}

down() {
    for daemon in slurmd slurmctld slurmdbd; do
        pkill -x "$daemon" 2>/dev/null || true
    done
    if running mariadbd; then
        timeout 30 mariadb-admin shutdown 2>/dev/null || pkill -x mariadbd || true
    fi
    pkill -x munged 2>/dev/null || true
    for daemon in slurmd slurmctld slurmdbd mariadbd munged; do
        for _ in $(seq 20); do running "$daemon" || break; sleep 0.5; done
    done
    log "down"
}

status() {
    probe scontrol ping && probe sacct -n -X -S now
}

case ${1:-} in
    up) up ;;
    down) down ;;
    status) status ;;
    config) config ;;
    *) echo "usage: $0 up|down|status|config" >&2; exit 2 ;;
esac
