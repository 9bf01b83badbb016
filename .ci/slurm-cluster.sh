#!/usr/bin/env bash
# A one-node SLURM cluster on localhost, for tests/test_slurm.py: the workflow's SLURM profile runs for real.
#
#   bash .ci/slurm-cluster.sh up      install Debian's SLURM (once) and start munge, MariaDB, slurmdbd,
#                                     slurmctld and slurmd; idempotent: what already runs is left alone
#   bash .ci/slurm-cluster.sh down    stop them
#   bash .ci/slurm-cluster.sh status  exit 0 when the node takes jobs
#
# Needs root and no systemd: every daemon is started directly. The node has the machine's CPUs, a partition
# `gpu` and two fake GPUs (GRES `gpu` whose files are links to /dev/null: jobs that ask for `--gpus=1` are
# scheduled and get CUDA_VISIBLE_DEVICES, and sacct records gres/gpu). Accounting (slurmdbd on MariaDB at
# 127.0.0.1) is on because snakemake-executor-plugin-slurm polls job states with sacct; the account `ci`
# holds user root. Every probe runs under `timeout`: a cluster that does not answer fails, never hangs.
set -euo pipefail

CLUSTER=slkdci
ACCOUNT=ci
PARTITION=gpu
STATE=/var/lib/slkd-ci        # fake GPU device files, the database password
LOGS=/var/log/slurm
DB_PASS_FILE=$STATE/db-password
PACKAGES=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server)

log() { echo "slurm-cluster: $*" >&2; }
probe() { timeout -k 2 10 "$@" >/dev/null 2>&1; }
running() { pgrep -x "$1" >/dev/null 2>&1; }

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
    local seconds=$1 what=$2
    shift 2
    for _ in $(seq "$seconds"); do
        if probe "$@"; then return 0; fi
        sleep 1
    done
    log "no $what after ${seconds}s"
    return 1
}

install_packages() {
    local missing=()
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        log "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

write_config() {
    local host cpus mem
    host=$(hostname -s)
    cpus=$(nproc)
    mem=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 3 / 4))
    mkdir -p /etc/slurm "$STATE" "$LOGS" /var/spool/slurmctld /var/spool/slurmd /run/slurm
    for i in 0 1; do ln -sfn /dev/null "$STATE/gpu$i"; done
    [[ -s $DB_PASS_FILE ]] || (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$DB_PASS_FILE")

    cat >/etc/slurm/slurm.conf <<EOF
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
GresTypes=gpu
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageTRES=gres/gpu
AccountingStorageEnforce=associations
AccountingStoreFlags=job_comment
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=300
NodeName=$host CPUs=$cpus RealMemory=$mem Gres=gpu:2 State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    cat >/etc/slurm/gres.conf <<EOF
NodeName=$host Name=gpu File=$STATE/gpu[0-1]
EOF
    cat >/etc/slurm/slurmdbd.conf <<EOF
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
    chmod 600 /etc/slurm/slurmdbd.conf
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
        [[ -d /var/lib/mysql/mysql ]] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
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
    sacctmgr -n show cluster format=cluster%30 | grep -qw "$CLUSTER" || sacctmgr -i add cluster "$CLUSTER" >/dev/null
    sacctmgr -n show account format=account%30 | grep -qw "$ACCOUNT" \
        || sacctmgr -i add account "$ACCOUNT" Cluster="$CLUSTER" Description="slkd-workflow CI" >/dev/null
    sacctmgr -n show assoc where user=root account="$ACCOUNT" format=account%30 | grep -qw "$ACCOUNT" \
        || sacctmgr -i add user root Account="$ACCOUNT" Cluster="$CLUSTER" >/dev/null
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
    log "node $host is not idle (state: ${state:-unknown}); see $LOGS"
    return 1
}

config_sum() { cat /etc/slurm/slurm.conf /etc/slurm/gres.conf /etc/slurm/slurmdbd.conf 2>/dev/null | md5sum; }

up() {
    install_packages
    local before
    before=$(config_sum)
    write_config
    if [[ $(config_sum) != "$before" ]]; then  # a changed configuration needs fresh SLURM daemons
        for daemon in slurmd slurmctld slurmdbd; do pkill -x "$daemon" 2>/dev/null || true; done
        for _ in $(seq 20); do running slurmd || running slurmctld || running slurmdbd || break; sleep 0.5; done
    fi
    start_munge
    start_mariadb
    start_slurmdbd
    start_slurm
    log "up: partition $PARTITION, account $ACCOUNT, $(nproc) CPUs, 2 GPUs (fake)"
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
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
