/* StreamVision native shim: a flat C API over FFmpeg (decode, encode, mux, scale).
 * Plain ints, pointers and UTF-8 strings only.
 *
 * Errors: functions return 0 (or a positive count) on success and a negative
 * code on failure: FFmpeg's AVERROR codes pass through unchanged, shim codes are
 * the SV_E_* values below. sv_last_error() gives the message of the last failure
 * on the calling thread.
 *
 * Buffers: every pixel buffer is BGR24, caller-owned, with an explicit row stride
 * in bytes. The shim never keeps a pointer to a caller buffer after a call returns.
 */
#ifndef SVNATIVE_H
#define SVNATIVE_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SV_API __attribute__((visibility("default")))

#define SV_E_ARGUMENT    (-100001) /* bad argument (null, size, range) */
#define SV_E_NO_STREAM   (-100002) /* input has no video stream */
#define SV_E_NO_CODEC    (-100003) /* decoder or encoder not available */
#define SV_E_TIMEOUT     (-100004) /* I/O deadline passed */
#define SV_E_INTERRUPTED (-100005) /* sv_reader_interrupt was called */
#define SV_E_UNKNOWN_OPTION (-100006) /* an option no component accepted */
#define SV_E_STATE       (-100007) /* call not valid in this state */

SV_API const char* sv_last_error(void);
SV_API const char* sv_ffmpeg_version(void);
/* Silences (0) or restores (1) FFmpeg's own log lines on stderr. */
SV_API void sv_set_log_level(int level);

/* ---------- diagnostics ---------- */
/* Readers and writers alive now (created and not yet closed), each holding its FFmpeg contexts. */
SV_API int64_t sv_live_readers(void);
SV_API int64_t sv_live_writers(void);

/* The process's glibc malloc heap (every native library's: FFmpeg, ONNX Runtime, OpenCV; not the .NET GC heap):
 * bytes the arenas took from the system, of them in use and free (held for reuse, counted in RSS once touched),
 * bytes in large mmap'ed blocks, and the number of arenas (glibc adds one per thread that meets a locked arena,
 * up to 8 per core unless MALLOC_ARENA_MAX says otherwise). Returns 0, or SV_E_STATE where it cannot be read. */
typedef struct sv_heap_info {
    int64_t arena_bytes;
    int64_t in_use_bytes;
    int64_t free_bytes;
    int64_t mmap_bytes;
    int32_t arenas;
} sv_heap_info;
SV_API int sv_heap_stats(sv_heap_info* info);
/* Caps glibc's malloc arenas (mallopt M_ARENA_MAX) for the arenas created from now on; returns 1 on success. */
SV_API int sv_set_malloc_arena_max(int n);

/* ---------- input (demux + decode) ---------- */
typedef struct sv_reader sv_reader;

typedef struct sv_stream_info {
    int32_t width;
    int32_t height;
    double fps;            /* average frame rate, 0 when unknown */
    double duration_s;     /* <= 0 when unknown or live */
    int64_t frame_count;   /* 0 when unknown */
    int32_t seekable;      /* 1 for files, 0 for live protocols */
    char codec[32];
    char pix_fmt[32];
    char format[64];
    char hwaccel[32];      /* hardware decoder in use, empty for software */
    int32_t rotation;      /* clockwise degrees (0/90/180/270) the reader applies from the display
                              matrix; width/height above are the size as displayed */
} sv_stream_info;

/* Opens `url` (a path, a URL, or a device/filter string when `format` names an
 * input format such as "lavfi" or "v4l2"). `keys`/`values` hold `n` FFmpeg
 * options. `open_timeout_ms`/`read_timeout_ms` (0 = none) bound every blocking
 * step through the interrupt callback, whatever the protocol. `hwaccel` (null or
 * empty = software) names a device type such as "cuda" or "vaapi"; when it cannot
 * be used the reader decodes in software and sv_reader_hw_status says why. */
SV_API int sv_reader_open(const char* url, const char* format,
                          const char* const* keys, const char* const* values, int n,
                          int threads, const char* hwaccel,
                          int open_timeout_ms, int read_timeout_ms, sv_reader** out);
/* Two-step open, so that another thread can end a blocking open with
 * sv_reader_interrupt: sv_reader_new allocates a reader that is not open yet (never
 * null), sv_reader_start opens it with the arguments of sv_reader_open (once; on
 * failure the reader stays allocated and must still be closed with sv_reader_close). */
SV_API sv_reader* sv_reader_new(void);
SV_API int sv_reader_start(sv_reader* r, const char* url, const char* format,
                           const char* const* keys, const char* const* values, int n,
                           int threads, const char* hwaccel,
                           int open_timeout_ms, int read_timeout_ms);
SV_API int sv_reader_info(sv_reader* r, sv_stream_info* info);
SV_API const char* sv_reader_hw_status(sv_reader* r);
/* Decodes the next frame and converts (and scales) it into `dst` (dst_w x dst_h
 * BGR24, `stride` bytes per row). Returns 1 with a frame, 0 at end of stream, <0 on
 * error. `pts_us` receives the presentation time in microseconds from the stream
 * start (INT64_MIN when unknown); `src_w`/`src_h` the decoded size as displayed
 * (after rotation). Frames come out rotated as the display matrix says, like the CLI. */
SV_API int sv_reader_read(sv_reader* r, uint8_t* dst, int dst_w, int dst_h, int stride,
                          int64_t* pts_us, int* src_w, int* src_h);
/* Two-step reading, for callers that skip frames cheaply: sv_reader_grab decodes the
 * next frame and keeps it without converting it (1 = a frame, 0 = end, <0 = error;
 * pts_us/src_w/src_h as for sv_reader_read); sv_reader_retrieve converts the kept
 * frame into `dst` (SV_E_STATE when none is kept). The next grab, read or rewind
 * releases the kept frame. sv_reader_read is grab + retrieve. */
SV_API int sv_reader_grab(sv_reader* r, int64_t* pts_us, int* src_w, int* src_h);
SV_API int sv_reader_retrieve(sv_reader* r, uint8_t* dst, int dst_w, int dst_h, int stride);
/* Seeks back to the start of a seekable input and flushes the decoder, so reading
 * starts over (looping a file). SV_E_STATE when the input cannot seek. */
SV_API int sv_reader_rewind(sv_reader* r);
/* Packets the decoder rejected (skipped) and frames it failed to produce. */
SV_API void sv_reader_stats(sv_reader* r, int64_t* corrupt_packets, int64_t* decode_errors);
/* Thread-safe: makes the blocking call in progress (and all later ones) return
 * SV_E_INTERRUPTED. */
SV_API void sv_reader_interrupt(sv_reader* r);
SV_API void sv_reader_close(sv_reader* r);

/* ---------- output (encode + mux) ---------- */
typedef struct sv_writer sv_writer;

/* Opens an encoder and muxer writing to `url` (path or URL). `format` (null =
 * guess from the name) is a muxer such as "mp4", "matroska", "rtsp", "hls".
 * `codec` names an encoder ("libx264", "h264_nvenc", "mjpeg", ...). Options go to
 * the encoder and the muxer; an option neither accepts is an error. */
SV_API int sv_writer_open(const char* url, const char* format, const char* codec,
                          int width, int height, int fps_num, int fps_den,
                          const char* const* keys, const char* const* values, int n,
                          int io_timeout_ms, sv_writer** out);
/* Encodes one BGR24 frame. `pts_us` < 0 means "next frame at the nominal rate". */
SV_API int sv_writer_write(sv_writer* w, const uint8_t* src, int stride, int64_t pts_us);
/* Flushes the encoder and writes the trailer. Idempotent. */
SV_API int sv_writer_finish(sv_writer* w);
SV_API int64_t sv_writer_frames(sv_writer* w);
/* Finishes (best effort) when not finished, then frees. */
SV_API void sv_writer_close(sv_writer* w);

#ifdef __cplusplus
}
#endif
#endif
