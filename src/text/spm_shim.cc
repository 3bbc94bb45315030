// spm_shim.cc - extern "C" wrapper around sentencepiece::SentencePieceProcessor (see spm_shim.h).
// C++ exceptions (std::bad_alloc from the vectors/strings) are caught here and turned into
// the library's one-line errors, because they must not unwind through C frames.
#include "spm_shim.h"

#include <sentencepiece_processor.h>

#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

extern "C" {
#include "../core/err.h"
}

struct t5g_spm {
    sentencepiece::SentencePieceProcessor sp;
};

static_assert(sizeof(int) == sizeof(int32_t), "spm ids are int; our API uses int32_t");

static void load_failed(const char *what, const char *why) {
    T5G_FAIL("cannot load SentencePiece model from %s: %s; give a valid tokenizer.model (or a "
             "checkpoint whose tokenizer/spm_model holds one)",
             what, why);
}

// Shared tail of both loaders: checks the status and that the model is usable.
static t5g_spm *finish_load(std::unique_ptr<t5g_spm> h, const sentencepiece::util::Status &st, const char *what) {
    if (!st.ok()) {
        // spm reports a broken proto as an internal error naming its own source line.
        if (st.code() == sentencepiece::util::StatusCode::kNotFound) load_failed(what, st.ToString().c_str());
        else load_failed(what, ("not a serialized SentencePiece model (" + st.ToString() + ")").c_str());
        return nullptr;
    }
    if (h->sp.GetPieceSize() <= 0) {
        load_failed(what, "the model has an empty vocabulary");
        return nullptr;
    }
    return h.release();
}

extern "C" t5g_spm *t5g_spm_load_file(const char *path) {
    if (!path || !*path) {
        T5G_FAIL("tokenizer model path is empty");
        return nullptr;
    }
    try {
        std::unique_ptr<t5g_spm> h(new t5g_spm);  // freed if Load throws (e.g. on a directory)
        const auto st = h->sp.Load(path);
        return finish_load(std::move(h), st, (std::string("file '") + path + "'").c_str());
    } catch (const std::exception &e) {
        load_failed((std::string("file '") + path + "'").c_str(), e.what());
        return nullptr;
    }
}

extern "C" t5g_spm *t5g_spm_load_bytes(const void *data, size_t len) {
    if (!data || len == 0) {
        T5G_FAIL("tokenizer model bytes are empty; the checkpoint's tokenizer/spm_model must "
                 "hold a serialized SentencePiece model");
        return nullptr;
    }
    try {
        std::unique_ptr<t5g_spm> h(new t5g_spm);
        const auto st = h->sp.LoadFromSerializedProto(absl::string_view(static_cast<const char *>(data), len));
        char what[64];
        std::snprintf(what, sizeof what, "%zu bytes in memory", len);
        return finish_load(std::move(h), st, what);
    } catch (const std::exception &e) {
        load_failed("memory", e.what());
        return nullptr;
    }
}

extern "C" void t5g_spm_free(t5g_spm *h) {
    delete h;
}

extern "C" int t5g_spm_vocab_size(const t5g_spm *h) {
    return h ? h->sp.GetPieceSize() : -1;
}

extern "C" void t5g_spm_special_ids(const t5g_spm *h, int *pad, int *eos, int *bos, int *unk) {
    *pad = h->sp.pad_id();
    *eos = h->sp.eos_id();
    *bos = h->sp.bos_id();
    *unk = h->sp.unk_id();
}

extern "C" int t5g_spm_piece_type(const t5g_spm *h, int id) {
    if (h->sp.IsControl(id)) return T5G_SPM_CONTROL;
    if (h->sp.IsUnknown(id)) return T5G_SPM_UNKNOWN;
    if (h->sp.IsByte(id)) return T5G_SPM_BYTE;
    if (h->sp.IsUnused(id)) return T5G_SPM_UNUSED;
    return T5G_SPM_NORMAL;  // 0.1.97 has no IsUserDefined(): user-defined pieces land here
}

extern "C" const char *t5g_spm_id_to_piece(const t5g_spm *h, int id) {
    return h->sp.IdToPiece(id).c_str();
}

extern "C" int t5g_spm_piece_to_id(const t5g_spm *h, const char *piece) {
    int id = h->sp.PieceToId(piece);
    // PieceToId answers unk_id for pieces it does not know; tell that apart from "<unk>".
    return h->sp.IdToPiece(id) == piece ? id : -1;
}

extern "C" int32_t *t5g_spm_encode(const t5g_spm *h, const char *text, size_t len, size_t front, size_t back,
                                   size_t *n) {
    try {
        std::vector<int> v;
        const auto st = h->sp.Encode(absl::string_view(text, len), &v);
        if (!st.ok()) {
            T5G_FAIL("SentencePiece encode failed: %s", st.ToString().c_str());
            return nullptr;
        }
        int32_t *out = static_cast<int32_t *>(t5g_malloc((front + v.size() + back) * sizeof(int32_t), "token ids"));
        if (!out) return nullptr;
        if (!v.empty()) std::memcpy(out + front, v.data(), v.size() * sizeof(int32_t));
        *n = v.size();
        return out;
    } catch (const std::exception &e) {
        T5G_FAIL("SentencePiece encode of %zu bytes failed: %s", len, e.what());
        return nullptr;
    }
}

extern "C" char *t5g_spm_decode(const t5g_spm *h, const int32_t *ids, size_t n, int skip_special, size_t *len) {
    try {
        // The proto form gives each id its own surface string, so special pieces can be
        // dropped or spelled out without re-splitting the text (exact even with a dummy prefix).
        sentencepiece::ImmutableSentencePieceText spt;
        const auto st = h->sp.Decode(std::vector<int>(ids, ids + n), spt.mutable_proto());
        if (!st.ok()) {
            T5G_FAIL("SentencePiece decode failed: %s", st.ToString().c_str());
            return nullptr;
        }
        if (spt.pieces_size() != n) {
            T5G_FAIL("SentencePiece decode returned %zu pieces for %zu ids", spt.pieces_size(), n);
            return nullptr;
        }
        std::string s;
        for (size_t i = 0; i < n; i++) {
            const int id = ids[i];
            if (h->sp.IsControl(id) || h->sp.IsUnknown(id)) {
                if (!skip_special) s += h->sp.IdToPiece(id);
            } else {
                s += spt.pieces(static_cast<int>(i)).surface();
            }
        }
        char *out = static_cast<char *>(t5g_malloc(s.size() + 1, "decoded text"));
        if (!out) return nullptr;
        std::memcpy(out, s.data(), s.size());
        out[s.size()] = 0;
        *len = s.size();
        return out;
    } catch (const std::exception &e) {
        T5G_FAIL("SentencePiece decode of %zu ids failed: %s", n, e.what());
        return nullptr;
    }
}
