/* A QEMU TCG plugin that counts the guest instructions a program executes and prints
 * "qemu-insn-count: N" on stderr at exit: bench/arm64_cost.sh's way to weigh the arm64
 * build's work per frame on a machine without an ARM CPU. Guest instructions, not time:
 * a NEON instruction does 4 lanes, a scalar one 1, and memory stalls are not seen.
 *
 *   gcc -O2 -shared -fPIC bench/qemu_insn_count.c -o insn.so
 *   qemu-aarch64 -L SYSROOT -plugin ./insn.so PROGRAM ...    (qemu-user, not -static)
 *
 * QEMU ships no header for plugins in Debian 12, so the few calls used are declared here
 * as QEMU 7.2's plugin API (version 1) defines them. The count is exact for one guest
 * thread (run the engine with --threads 1): the inline add is not atomic. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                           void (*cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb));
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op, void *ptr,
                                              uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, void (*cb)(qemu_plugin_id_t id, void *userdata),
                                    void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

static uint64_t executed;

/* Each translated block adds its instruction count every time it runs. */
static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed, qemu_plugin_tb_n_insns(tb));
}

static void report(qemu_plugin_id_t id, void *userdata) {
  (void)id, (void)userdata;
  fprintf(stderr, "qemu-insn-count: %llu\n", (unsigned long long)executed);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const void *info, int argc,
                                                               char **argv) {
  (void)info, (void)argc, (void)argv;
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, report, NULL);
  return 0;
}
