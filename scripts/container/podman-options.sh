# Options podman needs on machines like the CI machine (sourced by build.sh; the container test
# uses the same values):
#  - a hybrid cgroup v1/v2 host, which crun refuses ("cgroups in hybrid mode not supported"): use
#    runc when it is installed;
#  - no CAP_SYS_RESOURCE, so a container may not raise its limits above the caller's: podman's
#    defaults (1048576 open files) would be refused; ask for at most what this shell has.
PODMAN_GLOBAL=()
if command -v runc >/dev/null; then PODMAN_GLOBAL+=(--runtime runc); fi
PODMAN_LIMITS=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit "nproc=4096:4096")
