/* ckpt_impl.h - what ckpt.c (reading), ckpt_write.c and ckpt_hash.c share (not a public header). */
#ifndef T5G_CKPT_IMPL_H
#define T5G_CKPT_IMPL_H
#include "io/ckpt.h"
#include <hdf5.h>

/* String / integer attribute of an HDF5 object: 0 ok (*out malloc'd), 1 absent, -1 wrong type. */
int ckpt_get_str_attr(hid_t obj, const char *name, char **out);
int ckpt_get_int_attr(hid_t obj, const char *name, long long *v);
hid_t ckpt_file(const t5g_ckpt *c);
int ckpt_put_str_attr(hid_t obj, const char *name, const char *s);
int ckpt_put_int_attr(hid_t obj, const char *name, long long v);
/* NAME_scale: the per-row scales of an int8 tensor NAME */
void ckpt_scale_name(const char *name, char *buf, size_t n);

#define FORMAT_NAME    "t5gemma-hdf5"
#define FORMAT_VERSION 1

/* HDF5 errors: its own printing off (ckpt_h5_quiet); ckpt_h5_note keeps the innermost message of the
 * error stack (call it right after the failing call), ckpt_h5_reason returns it. */
void ckpt_h5_quiet(void);
void ckpt_h5_note(void);
const char *ckpt_h5_reason(void);
long long ckpt_h5_checked(long long v);
/* Evaluate an HDF5 call; on failure note the reason.  Yields the call's value. */
#define H5NOTE(call) ckpt_h5_checked((long long)(call))

/* Content hash of a checkpoint being written: each tensor's stored bytes are hashed as they
 * are written (ckh_begin / ckh_data / ckh_end), then ckh_final combines the tensors' digests
 * in name order with the root attributes read back from the file. */
typedef struct ckh_writer ckh_writer;
ckh_writer *ckh_new(void);
void ckh_free(ckh_writer *h);
int ckh_begin(ckh_writer *h, const char *name, const char *tag, int ndim, const int64_t *shape);
void ckh_data(ckh_writer *h, const void *buf, size_t len);
int ckh_end(ckh_writer *h);
int ckh_final(ckh_writer *h, hid_t file, char hex[65]);
/* Bytes of tensor data in the file (every dataset, element count x stored size). */
int64_t ckh_data_bytes(hid_t file);
#endif
