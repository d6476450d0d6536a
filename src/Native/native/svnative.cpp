// StreamVision native shim. See svnative.h for the contract.
#include "svnative.h"

#include <atomic>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <malloc.h>
#include <mutex>
#include <string>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavdevice/version.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/hwcontext.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/time.h>
#include <libswscale/swscale.h>
}


namespace {

thread_local std::string g_last_error;
// FFmpeg's last error-level log message on this thread: an open that fails for a reason only FFmpeg's log names
// (e.g. "Picture size 30000x30000 is invalid", returned as an unrelated errno) says it in our error too.
thread_local std::string g_last_av_log;
thread_local bool g_av_log_line_done = true;

void reset_av_log() {
    g_last_av_log.clear();
    g_av_log_line_done = true;
}

void av_log_capture(void* avcl, int level, const char* fmt, va_list vl) {
    if (level <= AV_LOG_ERROR && fmt) {
        va_list copy;
        va_copy(copy, vl);
        char buf[512];
        vsnprintf(buf, sizeof buf, fmt, copy);
        va_end(copy);
        if (g_av_log_line_done) g_last_av_log.clear();
        g_last_av_log += buf;
        size_t n = g_last_av_log.size();
        g_av_log_line_done = n > 0 && g_last_av_log[n - 1] == '\n';
        while (!g_last_av_log.empty() && (g_last_av_log.back() == '\n' || g_last_av_log.back() == ' ' || g_last_av_log.back() == '.'))
            g_last_av_log.pop_back();
    }
    av_log_default_callback(avcl, level, fmt, vl);
}

int fail(int code, const char* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g_last_error = buf;
    return code;
}

std::string av_err(int code) {
    char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(code, buf, sizeof buf);
    return buf;
}

struct LogInit {
    LogInit() { av_log_set_level(AV_LOG_ERROR); av_log_set_callback(av_log_capture); }
};
LogInit g_log_init;

// Input devices (v4l2, lavfi, x11grab, alsa, ...) live in libavdevice, which pulls in libavfilter and through them
// X11, GL, PulseAudio, JACK, SDL and a hundred more libraries: about 30-60 ms of loading for every process, which files
// and network streams never need. So the shim does not link it: the first open that names a format libavformat does not
// know (an input such as v4l2 or lavfi, an output such as v4l2) loads it and registers its devices (every device source
// names its format: SourceUri maps /dev/video*, v4l2:// and lavfi:).
std::once_flag g_devices_once;
std::string g_devices_error;  // empty once the devices are registered

#define SV_STR2(x) #x
#define SV_STR(x) SV_STR2(x)

const std::string& ensure_devices() {
    std::call_once(g_devices_once, [] {
        const char* so = "libavdevice.so." SV_STR(LIBAVDEVICE_VERSION_MAJOR);
        void* h = dlopen(so, RTLD_NOW | RTLD_LOCAL);  // local: its dependencies (libjpeg and others) must not interpose on what OpenCV bound
        if (!h) { const char* e = dlerror(); g_devices_error = std::string("cannot load ") + so + ": " + (e ? e : "unknown error"); return; }
        auto reg = reinterpret_cast<void (*)()>(dlsym(h, "avdevice_register_all"));
        if (!reg) { g_devices_error = std::string(so) + " has no avdevice_register_all"; return; }
        reg();  // the library stays loaded: the registered devices point into it
    });
    return g_devices_error;
}

void copy_str(char* dst, size_t cap, const char* src) {
    if (!src) src = "";
    std::snprintf(dst, cap, "%s", src);
}

AVDictionary* make_dict(const char* const* keys, const char* const* values, int n) {
    AVDictionary* d = nullptr;
    for (int i = 0; i < n; i++) {
        if (keys && keys[i] && values && values[i]) av_dict_set(&d, keys[i], values[i], 0);
    }
    return d;
}

}  // namespace

extern "C" {

const char* sv_last_error(void) { return g_last_error.c_str(); }
const char* sv_ffmpeg_version(void) { return av_version_info(); }
void sv_set_log_level(int level) { av_log_set_level(level ? AV_LOG_ERROR : AV_LOG_QUIET); }

// ---------------------------------------------------------------- diagnostics

static std::atomic<int64_t> g_live_readers{0};
static std::atomic<int64_t> g_live_writers{0};

int64_t sv_live_readers(void) { return g_live_readers.load(); }
int64_t sv_live_writers(void) { return g_live_writers.load(); }

int sv_set_malloc_arena_max(int n) { return n > 0 ? mallopt(M_ARENA_MAX, n) : 0; }

int sv_heap_stats(sv_heap_info* info) {
    if (!info) return fail(SV_E_ARGUMENT, "heap stats: info is required");
    std::memset(info, 0, sizeof *info);
    struct mallinfo2 mi = mallinfo2();
    info->arena_bytes = (int64_t)mi.arena;
    info->in_use_bytes = (int64_t)mi.uordblks;
    info->free_bytes = (int64_t)mi.fordblks;
    info->mmap_bytes = (int64_t)mi.hblkhd;
    // mallinfo2 sums the arenas; malloc_info's XML has one <heap nr="..."> element per arena.
    char* xml = nullptr;
    size_t len = 0;
    FILE* f = open_memstream(&xml, &len);
    if (!f) return fail(SV_E_STATE, "heap stats: open_memstream failed");
    int rc = malloc_info(0, f);
    fclose(f);
    if (rc == 0 && xml) {
        for (const char* p = xml; (p = std::strstr(p, "<heap nr=")) != nullptr; p++) info->arenas++;
    }
    free(xml);
    return rc == 0 ? 0 : fail(SV_E_STATE, "heap stats: malloc_info failed");
}

// ---------------------------------------------------------------- reader

struct sv_reader {
    sv_reader() { g_live_readers++; }
    ~sv_reader() { g_live_readers--; }
    sv_reader(const sv_reader&) = delete;
    sv_reader& operator=(const sv_reader&) = delete;
    std::string url;
    AVFormatContext* fmt = nullptr;
    AVCodecContext* dec = nullptr;
    AVPacket* pkt = nullptr;
    AVFrame* frame = nullptr;
    AVFrame* swframe = nullptr;
    SwsContext* sws = nullptr;
    AVBufferRef* hw_device = nullptr;
    AVPixelFormat hw_pix_fmt = AV_PIX_FMT_NONE;
    int stream_index = -1;
    std::atomic<int> interrupted{0};
    std::atomic<int64_t> deadline{0};
    int64_t read_timeout_us = 0;
    bool eof_sent = false;
    bool held = false;     // r->frame holds a grabbed frame not yet released
    bool started = false;  // sv_reader_start (or sv_reader_open) ran
    int64_t corrupt_packets = 0;
    int64_t decode_errors = 0;
    int64_t start_time = AV_NOPTS_VALUE;
    std::string hw_status;
    std::string hw_name;
    int rotation = 0;      // clockwise degrees (0, 90, 180, 270) applied so frames come out as displayed
    std::vector<uint8_t> rot_buf;  // BGR24 before rotation (tightly packed)
};

static int reader_interrupt_cb(void* opaque) {
    auto* r = static_cast<sv_reader*>(opaque);
    if (r->interrupted.load()) return 1;
    int64_t d = r->deadline.load();
    return d > 0 && av_gettime_relative() > d ? 1 : 0;
}

static AVPixelFormat pick_hw_format(AVCodecContext* ctx, const AVPixelFormat* fmts) {
    auto* r = static_cast<sv_reader*>(ctx->opaque);
    for (const AVPixelFormat* p = fmts; *p != AV_PIX_FMT_NONE; p++) {
        if (*p == r->hw_pix_fmt) return *p;
    }
    // The hardware path is not offered for this stream: decode in software.
    r->hw_status = "hardware format not offered by the decoder; using software";
    return fmts[0];
}

// Frees everything FFmpeg holds for `r` (not `r` itself); safe on a half-opened reader.
static void reader_release(sv_reader* r) {
    sws_freeContext(r->sws);
    r->sws = nullptr;
    av_frame_free(&r->frame);
    av_frame_free(&r->swframe);
    av_packet_free(&r->pkt);
    avcodec_free_context(&r->dec);
    av_buffer_unref(&r->hw_device);
    if (r->fmt) avformat_close_input(&r->fmt);
    r->held = false;
}

static void reader_free(sv_reader* r) {
    if (!r) return;
    reader_release(r);
    delete r;
}

static bool reader_open(const sv_reader* r) { return r && r->dec && r->fmt && r->pkt; }

static int io_error(sv_reader* r, int ret, const char* what) {
    if (r->interrupted.load()) return fail(SV_E_INTERRUPTED, "%s '%s': interrupted", what, r->url.c_str());
    int64_t d = r->deadline.load();
    if (d > 0 && av_gettime_relative() > d)  // whatever code the protocol chose, the deadline ended it
        return fail(SV_E_TIMEOUT, "%s '%s': timed out", what, r->url.c_str());
    if (!g_last_av_log.empty())  // FFmpeg logged why (its return code alone can mislead)
        return fail(ret, "%s '%s': %s (%s)", what, r->url.c_str(), g_last_av_log.c_str(), av_err(ret).c_str());
    return fail(ret, "%s '%s': %s", what, r->url.c_str(), av_err(ret).c_str());
}

// Clockwise rotation (0/90/180/270) the stream's display matrix asks for, as the ffmpeg CLI applies it.
static int display_rotation(AVStream* st) {
    const uint8_t* m = nullptr;
#if LIBAVFORMAT_VERSION_MAJOR >= 61
    const AVPacketSideData* sd = av_packet_side_data_get(st->codecpar->coded_side_data, st->codecpar->nb_coded_side_data,
                                                         AV_PKT_DATA_DISPLAYMATRIX);
    if (sd && sd->size >= 9 * sizeof(int32_t)) m = sd->data;
#else
    size_t size = 0;
    m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (size < 9 * sizeof(int32_t)) m = nullptr;
#endif
    if (!m) return 0;
    double theta = -std::round(av_display_rotation_get(reinterpret_cast<const int32_t*>(m)));
    if (std::isnan(theta)) return 0;
    theta -= 360 * std::floor(theta / 360 + 0.9 / 360);
    if (std::fabs(theta - 90) < 1) return 90;
    if (std::fabs(theta - 180) < 1) return 180;
    if (std::fabs(theta - 270) < 1) return 270;
    return 0;
}

// Opens `url` into the not-yet-open reader `r`. On failure everything is released again (r stays allocated).
static int reader_start(sv_reader* r, const char* url, const char* format, const char* const* keys,
                        const char* const* values, int n, int threads, const char* hwaccel,
                        int open_timeout_ms, int read_timeout_ms) {
    r->url = url;
    if (r->interrupted.load()) return fail(SV_E_INTERRUPTED, "open '%s': interrupted", url);
    r->read_timeout_us = (int64_t)read_timeout_ms * 1000;
    const AVInputFormat* ifmt = nullptr;
    if (format && *format) {
        ifmt = av_find_input_format(format);
        if (!ifmt) {
            const std::string& err = ensure_devices();
            if (!err.empty()) { reader_release(r); return fail(SV_E_NO_CODEC, "open '%s': input format '%s' not found (device formats unavailable: %s)", url, format, err.c_str()); }
            ifmt = av_find_input_format(format);
        }
        if (!ifmt) { reader_release(r); return fail(SV_E_NO_CODEC, "open '%s': input format '%s' not available in this FFmpeg", url, format); }
    }
    r->fmt = avformat_alloc_context();
    r->fmt->interrupt_callback.callback = reader_interrupt_cb;
    r->fmt->interrupt_callback.opaque = r;
    AVDictionary* opts = make_dict(keys, values, n);
    r->deadline = open_timeout_ms > 0 ? av_gettime_relative() + (int64_t)open_timeout_ms * 1000 : 0;
    reset_av_log();
    int ret = avformat_open_input(&r->fmt, url, ifmt, &opts);  // frees fmt on failure
    if (ret < 0) {
        av_dict_free(&opts);
        int code = io_error(r, ret, "open");
        reader_release(r);
        return code;
    }
    if (av_dict_count(opts) > 0) {
        const AVDictionaryEntry* e = av_dict_get(opts, "", nullptr, AV_DICT_IGNORE_SUFFIX);
        std::string name = e ? e->key : "?";
        av_dict_free(&opts);
        reader_release(r);
        return fail(SV_E_UNKNOWN_OPTION, "open '%s': option '%s' not recognised by the input", url, name.c_str());
    }
    av_dict_free(&opts);
    reset_av_log();
    ret = avformat_find_stream_info(r->fmt, nullptr);
    if (ret < 0) { int code = io_error(r, ret, "read stream info of"); reader_release(r); return code; }
    const AVCodec* codec = nullptr;
    ret = av_find_best_stream(r->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (ret == AVERROR_DECODER_NOT_FOUND) { reader_release(r); return fail(SV_E_NO_CODEC, "open '%s': no decoder for its video stream", url); }
    if (ret < 0) {
        std::string fmt_name = r->fmt->iformat->name;
        reader_release(r);
        return fail(SV_E_NO_STREAM, "open '%s': no video stream (format %s)", url, fmt_name.c_str());
    }
    r->stream_index = ret;
    AVStream* st = r->fmt->streams[ret];
    r->start_time = st->start_time;
    r->rotation = display_rotation(st);
    r->dec = avcodec_alloc_context3(codec);
    avcodec_parameters_to_context(r->dec, st->codecpar);
    r->dec->thread_count = threads > 0 ? threads : 0;
    r->dec->opaque = r;
    r->dec->pkt_timebase = st->time_base;
    if (hwaccel && *hwaccel) {
        AVHWDeviceType type = av_hwdevice_find_type_by_name(hwaccel);
        if (type == AV_HWDEVICE_TYPE_NONE) {
            r->hw_status = std::string("hardware decode '") + hwaccel + "' is not a device type this FFmpeg knows; using software";
        } else {
            for (int i = 0;; i++) {
                const AVCodecHWConfig* cfg = avcodec_get_hw_config(codec, i);
                if (!cfg) break;
                if ((cfg->methods & AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX) && cfg->device_type == type) {
                    r->hw_pix_fmt = cfg->pix_fmt;
                    break;
                }
            }
            if (r->hw_pix_fmt == AV_PIX_FMT_NONE) {
                r->hw_status = std::string("decoder ") + codec->name + " has no " + hwaccel + " support; using software";
            } else {
                int hr = av_hwdevice_ctx_create(&r->hw_device, type, nullptr, nullptr, 0);
                if (hr < 0) {
                    r->hw_status = std::string("cannot open ") + hwaccel + " device (" + av_err(hr) + "); using software";
                    r->hw_pix_fmt = AV_PIX_FMT_NONE;
                } else {
                    r->dec->hw_device_ctx = av_buffer_ref(r->hw_device);
                    r->dec->get_format = pick_hw_format;
                    r->hw_name = hwaccel;
                    r->hw_status = std::string("decoding on ") + hwaccel;
                }
            }
        }
    }
    ret = avcodec_open2(r->dec, codec, nullptr);
    if (ret < 0) { reader_release(r); return fail(ret, "open decoder %s for '%s': %s", codec->name, url, av_err(ret).c_str()); }
    r->pkt = av_packet_alloc();
    r->frame = av_frame_alloc();
    r->swframe = av_frame_alloc();
    r->deadline = 0;
    return 0;
}

sv_reader* sv_reader_new(void) { return new sv_reader(); }

int sv_reader_start(sv_reader* r, const char* url, const char* format, const char* const* keys,
                    const char* const* values, int n, int threads, const char* hwaccel,
                    int open_timeout_ms, int read_timeout_ms) {
    if (!r || !url) return fail(SV_E_ARGUMENT, "reader and url are required");
    if (r->started) return fail(SV_E_STATE, "open '%s': this reader was already opened", url);
    r->started = true;
    return reader_start(r, url, format, keys, values, n, threads, hwaccel, open_timeout_ms, read_timeout_ms);
}

int sv_reader_open(const char* url, const char* format, const char* const* keys,
                   const char* const* values, int n, int threads, const char* hwaccel,
                   int open_timeout_ms, int read_timeout_ms, sv_reader** out) {
    if (!url || !out) return fail(SV_E_ARGUMENT, "url and out are required");
    *out = nullptr;
    auto* r = new sv_reader();
    r->started = true;
    int rc = reader_start(r, url, format, keys, values, n, threads, hwaccel, open_timeout_ms, read_timeout_ms);
    if (rc < 0) { reader_free(r); return rc; }
    *out = r;
    return 0;
}

int sv_reader_info(sv_reader* r, sv_stream_info* info) {
    if (!r || !info) return fail(SV_E_ARGUMENT, "reader and info are required");
    if (!reader_open(r)) return fail(SV_E_STATE, "info: the reader is not open");
    std::memset(info, 0, sizeof *info);
    AVStream* st = r->fmt->streams[r->stream_index];
    bool swap = r->rotation == 90 || r->rotation == 270;
    info->width = swap ? r->dec->height : r->dec->width;
    info->height = swap ? r->dec->width : r->dec->height;
    info->rotation = r->rotation;
    AVRational fr = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
    info->fps = fr.num > 0 && fr.den > 0 ? av_q2d(fr) : 0.0;
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0) info->duration_s = st->duration * av_q2d(st->time_base);
    else if (r->fmt->duration != AV_NOPTS_VALUE && r->fmt->duration > 0) info->duration_s = r->fmt->duration / (double)AV_TIME_BASE;
    info->frame_count = st->nb_frames;
    bool nofile = (r->fmt->iformat->flags & AVFMT_NOFILE) != 0;
    info->seekable = (!nofile && r->fmt->pb && (r->fmt->pb->seekable & AVIO_SEEKABLE_NORMAL)) ? 1 : 0;
    copy_str(info->codec, sizeof info->codec, r->dec->codec ? r->dec->codec->name : "?");
    const char* pf = av_get_pix_fmt_name(r->dec->sw_pix_fmt != AV_PIX_FMT_NONE ? r->dec->sw_pix_fmt : r->dec->pix_fmt);
    copy_str(info->pix_fmt, sizeof info->pix_fmt, pf ? pf : "?");
    copy_str(info->format, sizeof info->format, r->fmt->iformat->name);
    copy_str(info->hwaccel, sizeof info->hwaccel, r->hw_name.c_str());
    return 0;
}

const char* sv_reader_hw_status(sv_reader* r) { return r ? r->hw_status.c_str() : ""; }

static int scale_to_bgr(sv_reader* r, AVFrame* f, uint8_t* dst, int dst_w, int dst_h, int stride) {
    r->sws = sws_getCachedContext(r->sws, f->width, f->height, (AVPixelFormat)f->format, dst_w, dst_h,
                                  AV_PIX_FMT_BGR24, SWS_BILINEAR, nullptr, nullptr, nullptr);
    if (!r->sws) return fail(SV_E_ARGUMENT, "read '%s': cannot convert %s %dx%d to bgr24 %dx%d", r->url.c_str(),
                             av_get_pix_fmt_name((AVPixelFormat)f->format), f->width, f->height, dst_w, dst_h);
    uint8_t* planes[4] = {dst, nullptr, nullptr, nullptr};
    int strides[4] = {stride, 0, 0, 0};
    sws_scale(r->sws, f->data, f->linesize, 0, f->height, planes, strides);
    return 0;
}

// Rotates a packed BGR24 image (sw x sh, stride sw*3) clockwise by `degrees` (90, 180 or 270) into dst, whose size is
// the rotated one (sh x sw for 90/270). dst(row i, column j) takes the source pixel that lands there.
static void rotate_bgr(const uint8_t* src, int sw, int sh, uint8_t* dst, int dst_stride, int degrees) {
    const size_t ss = (size_t)sw * 3;
    int dw = degrees == 180 ? sw : sh, dh = degrees == 180 ? sh : sw;
    for (int i = 0; i < dh; i++) {
        uint8_t* out = dst + (size_t)i * dst_stride;
        for (int j = 0; j < dw; j++) {
            int sy, sx;
            if (degrees == 90) { sy = sh - 1 - j; sx = i; }
            else if (degrees == 180) { sy = sh - 1 - i; sx = sw - 1 - j; }
            else { sy = j; sx = sw - 1 - i; }
            const uint8_t* p = src + (size_t)sy * ss + (size_t)sx * 3;
            out[3 * j] = p[0];
            out[3 * j + 1] = p[1];
            out[3 * j + 2] = p[2];
        }
    }
}

// Converts (and scales) `f` into dst as displayed: rotated by the stream's display matrix.
static int convert_out(sv_reader* r, AVFrame* f, uint8_t* dst, int dst_w, int dst_h, int stride) {
    if (r->rotation == 0) return scale_to_bgr(r, f, dst, dst_w, dst_h, stride);
    bool swap = r->rotation == 90 || r->rotation == 270;
    int bw = swap ? dst_h : dst_w, bh = swap ? dst_w : dst_h;
    r->rot_buf.resize((size_t)bw * bh * 3);
    int ret = scale_to_bgr(r, f, r->rot_buf.data(), bw, bh, bw * 3);
    if (ret < 0) return ret;
    rotate_bgr(r->rot_buf.data(), bw, bh, dst, stride, r->rotation);
    return 0;
}

// Decodes the next frame into r->frame and keeps it there (r->held) until the next grab.
static int reader_grab(sv_reader* r, int64_t* pts_us, int* src_w, int* src_h) {
    if (r->held) { av_frame_unref(r->frame); r->held = false; }
    for (;;) {
        if (r->interrupted.load()) return fail(SV_E_INTERRUPTED, "read '%s': interrupted", r->url.c_str());
        int ret = avcodec_receive_frame(r->dec, r->frame);
        if (ret == 0) {
            r->held = true;
            int64_t ts = r->frame->best_effort_timestamp;
            if (pts_us) {
                if (ts == AV_NOPTS_VALUE) *pts_us = INT64_MIN;
                else {
                    int64_t base = r->start_time != AV_NOPTS_VALUE ? r->start_time : 0;
                    *pts_us = av_rescale_q(ts - base, r->fmt->streams[r->stream_index]->time_base, AVRational{1, 1000000});
                }
            }
            bool swap = r->rotation == 90 || r->rotation == 270;
            if (src_w) *src_w = swap ? r->frame->height : r->frame->width;
            if (src_h) *src_h = swap ? r->frame->width : r->frame->height;
            return 1;
        }
        if (ret == AVERROR_EOF) return 0;
        if (ret != AVERROR(EAGAIN)) {
            // A broken frame: count it and go on with the next packet.
            r->decode_errors++;
            if (r->eof_sent) return 0;
        }
        if (r->eof_sent) return 0;
        r->deadline = r->read_timeout_us > 0 ? av_gettime_relative() + r->read_timeout_us : 0;
        reset_av_log();
        ret = av_read_frame(r->fmt, r->pkt);
        if (ret == AVERROR_EOF || (ret < 0 && r->fmt->pb && avio_feof(r->fmt->pb) && !r->interrupted.load() && ret != AVERROR_EXIT)) {
            r->deadline = 0;
            avcodec_send_packet(r->dec, nullptr);
            r->eof_sent = true;
            continue;
        }
        if (ret < 0) {
            int code = io_error(r, ret, "read");
            r->deadline = 0;
            return code;
        }
        r->deadline = 0;
        if (r->pkt->stream_index != r->stream_index) { av_packet_unref(r->pkt); continue; }
        ret = avcodec_send_packet(r->dec, r->pkt);
        av_packet_unref(r->pkt);
        if (ret < 0 && ret != AVERROR(EAGAIN)) r->corrupt_packets++;
    }
}

// The kept frame in system memory: downloaded from the GPU into r->swframe when hardware-decoded.
static int held_frame(sv_reader* r, AVFrame** out) {
    *out = r->frame;
    if (r->hw_pix_fmt != AV_PIX_FMT_NONE && r->frame->format == r->hw_pix_fmt) {
        av_frame_unref(r->swframe);
        int tr = av_hwframe_transfer_data(r->swframe, r->frame, 0);
        if (tr < 0) { r->decode_errors++; return fail(tr, "read '%s': cannot download the decoded frame: %s", r->url.c_str(), av_err(tr).c_str()); }
        *out = r->swframe;
    }
    return 0;
}

static int reader_retrieve(sv_reader* r, uint8_t* dst, int dst_w, int dst_h, int stride) {
    if (!r->held) return fail(SV_E_STATE, "retrieve '%s': no decoded frame is held (grab first)", r->url.c_str());
    AVFrame* f = nullptr;
    int ret = held_frame(r, &f);
    if (ret < 0) return ret;
    ret = convert_out(r, f, dst, dst_w, dst_h, stride);
    av_frame_unref(r->swframe);
    return ret;
}

int sv_reader_grab(sv_reader* r, int64_t* pts_us, int* src_w, int* src_h) {
    if (!r) return fail(SV_E_ARGUMENT, "grab: null reader");
    if (!reader_open(r)) return fail(SV_E_STATE, "grab: the reader is not open");
    return reader_grab(r, pts_us, src_w, src_h);
}

int sv_reader_retrieve(sv_reader* r, uint8_t* dst, int dst_w, int dst_h, int stride) {
    if (!r || !dst || dst_w <= 0 || dst_h <= 0 || stride < dst_w * 3) return fail(SV_E_ARGUMENT, "retrieve: bad buffer");
    if (!reader_open(r)) return fail(SV_E_STATE, "retrieve: the reader is not open");
    return reader_retrieve(r, dst, dst_w, dst_h, stride);
}

int sv_reader_read(sv_reader* r, uint8_t* dst, int dst_w, int dst_h, int stride, int64_t* pts_us, int* src_w, int* src_h) {
    if (!r || !dst || dst_w <= 0 || dst_h <= 0 || stride < dst_w * 3) return fail(SV_E_ARGUMENT, "read: bad buffer");
    if (!reader_open(r)) return fail(SV_E_STATE, "read: the reader is not open");
    for (;;) {
        int rc = reader_grab(r, pts_us, src_w, src_h);
        if (rc != 1) return rc;
        AVFrame* f = nullptr;
        if (held_frame(r, &f) < 0) continue;  // a frame the GPU could not hand over is skipped (counted)
        int cr = convert_out(r, f, dst, dst_w, dst_h, stride);
        av_frame_unref(r->swframe);
        av_frame_unref(r->frame);
        r->held = false;
        return cr < 0 ? cr : 1;
    }
}

int sv_reader_rewind(sv_reader* r) {
    if (!r) return fail(SV_E_ARGUMENT, "rewind: null reader");
    if (!reader_open(r)) return fail(SV_E_STATE, "rewind: the reader is not open");
    if (r->interrupted.load()) return fail(SV_E_INTERRUPTED, "rewind '%s': interrupted", r->url.c_str());
    bool nofile = (r->fmt->iformat->flags & AVFMT_NOFILE) != 0;
    if (nofile || !r->fmt->pb || !(r->fmt->pb->seekable & AVIO_SEEKABLE_NORMAL))
        return fail(SV_E_STATE, "rewind '%s': input is not seekable", r->url.c_str());
    r->deadline = r->read_timeout_us > 0 ? av_gettime_relative() + r->read_timeout_us : 0;
    int ret = av_seek_frame(r->fmt, r->stream_index, r->start_time != AV_NOPTS_VALUE ? r->start_time : 0, AVSEEK_FLAG_BACKWARD);
    if (ret < 0) ret = avformat_seek_file(r->fmt, -1, INT64_MIN, 0, 0, 0);
    if (ret < 0) { int code = io_error(r, ret, "rewind"); r->deadline = 0; return code; }
    r->deadline = 0;
    if (r->held) { av_frame_unref(r->frame); r->held = false; }
    avcodec_flush_buffers(r->dec);
    r->eof_sent = false;
    return 0;
}

void sv_reader_stats(sv_reader* r, int64_t* corrupt_packets, int64_t* decode_errors) {
    if (corrupt_packets) *corrupt_packets = 0;
    if (decode_errors) *decode_errors = 0;
    if (!r) return;
    if (corrupt_packets) *corrupt_packets = r->corrupt_packets;
    if (decode_errors) *decode_errors = r->decode_errors;
}

void sv_reader_interrupt(sv_reader* r) { if (r) r->interrupted.store(1); }
void sv_reader_close(sv_reader* r) { reader_free(r); }

// ---------------------------------------------------------------- writer

struct sv_writer {
    sv_writer() { g_live_writers++; }
    ~sv_writer() { g_live_writers--; }
    sv_writer(const sv_writer&) = delete;
    sv_writer& operator=(const sv_writer&) = delete;
    std::string url;
    AVFormatContext* oc = nullptr;
    AVCodecContext* enc = nullptr;
    AVStream* st = nullptr;
    AVFrame* frame = nullptr;
    AVPacket* pkt = nullptr;
    SwsContext* sws = nullptr;
    int width = 0, height = 0;
    AVRational fps{25, 1};
    int64_t frames = 0;
    int64_t last_pts = INT64_MIN;
    bool header_written = false;
    bool finished = false;
    std::atomic<int64_t> deadline{0};
    int64_t io_timeout_us = 0;
};

static int writer_interrupt_cb(void* opaque) {
    auto* w = static_cast<sv_writer*>(opaque);
    int64_t d = w->deadline.load();
    return d > 0 && av_gettime_relative() > d ? 1 : 0;
}

static void writer_arm(sv_writer* w) { w->deadline = w->io_timeout_us > 0 ? av_gettime_relative() + w->io_timeout_us : 0; }

static void writer_free(sv_writer* w) {
    if (!w) return;
    sws_freeContext(w->sws);
    av_frame_free(&w->frame);
    av_packet_free(&w->pkt);
    avcodec_free_context(&w->enc);
    if (w->oc) {
        if (!(w->oc->oformat->flags & AVFMT_NOFILE)) avio_closep(&w->oc->pb);
        avformat_free_context(w->oc);
    }
    delete w;
}

int sv_writer_open(const char* url, const char* format, const char* codec_name, int width, int height,
                   int fps_num, int fps_den, const char* const* keys, const char* const* values, int n,
                   int io_timeout_ms, sv_writer** out) {
    if (!url || !out || !codec_name || width <= 0 || height <= 0 || fps_num <= 0 || fps_den <= 0)
        return fail(SV_E_ARGUMENT, "writer: url, codec, a positive size and frame rate are required");
    *out = nullptr;
    const AVCodec* codec = avcodec_find_encoder_by_name(codec_name);
    if (!codec) return fail(SV_E_NO_CODEC, "output '%s': encoder '%s' not available in this FFmpeg", url, codec_name);
    auto* w = new sv_writer();
    w->url = url;
    w->width = width;
    w->height = height;
    w->fps = AVRational{fps_num, fps_den};
    w->io_timeout_us = (int64_t)io_timeout_ms * 1000;
    int ret = avformat_alloc_output_context2(&w->oc, nullptr, (format && *format) ? format : nullptr, url);
    if ((ret < 0 || !w->oc) && format && *format && ensure_devices().empty()) {
        // An output device (v4l2 to a loopback camera, ...) is in libavdevice, loaded on first need.
        ret = avformat_alloc_output_context2(&w->oc, nullptr, format, url);
    }
    if (ret < 0 || !w->oc) {
        writer_free(w);
        return fail(ret < 0 ? ret : SV_E_ARGUMENT, "output '%s': no muxer for %s", url, (format && *format) ? format : "this file name");
    }
    w->oc->interrupt_callback.callback = writer_interrupt_cb;
    w->oc->interrupt_callback.opaque = w;
    w->st = avformat_new_stream(w->oc, nullptr);
    w->enc = avcodec_alloc_context3(codec);
    w->enc->width = width;
    w->enc->height = height;
    w->enc->time_base = AVRational{1, 90000};
    w->enc->framerate = w->fps;
    w->enc->gop_size = 2 * (fps_num / fps_den > 0 ? fps_num / fps_den : 25);
    AVPixelFormat pix = AV_PIX_FMT_NONE;
    if (codec->pix_fmts) {
        for (const AVPixelFormat* p = codec->pix_fmts; *p != AV_PIX_FMT_NONE; p++) {
            if (*p == AV_PIX_FMT_YUV420P || *p == AV_PIX_FMT_YUVJ420P) { pix = *p; break; }
        }
        if (pix == AV_PIX_FMT_NONE) pix = codec->pix_fmts[0];
    } else {
        pix = AV_PIX_FMT_YUV420P;
    }
    w->enc->pix_fmt = pix;
    if (pix == AV_PIX_FMT_YUVJ420P) w->enc->color_range = AVCOL_RANGE_JPEG;
    if (w->oc->oformat->flags & AVFMT_GLOBALHEADER) w->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary* enc_opts = make_dict(keys, values, n);
    AVDictionary* fmt_opts = make_dict(keys, values, n);
    ret = avcodec_open2(w->enc, codec, &enc_opts);
    if (ret < 0) {
        av_dict_free(&enc_opts); av_dict_free(&fmt_opts);
        writer_free(w);
        // A hardware encoder that cannot open (no device, no driver) is "not available here", whatever code it gave.
        bool hw = (codec->capabilities & AV_CODEC_CAP_HARDWARE) || std::strstr(codec_name, "nvenc") || std::strstr(codec_name, "vaapi") ||
                  std::strstr(codec_name, "qsv") || std::strstr(codec_name, "v4l2m2m") || std::strstr(codec_name, "amf");
        return fail(hw || ret == AVERROR_EXTERNAL || ret == AVERROR(ENOSYS) ? SV_E_NO_CODEC : ret,
                    "output '%s': cannot open encoder %s: %s", url, codec_name, av_err(ret).c_str());
    }
    avcodec_parameters_from_context(w->st->codecpar, w->enc);
    w->st->time_base = w->enc->time_base;
    w->st->avg_frame_rate = w->fps;
    if (!(w->oc->oformat->flags & AVFMT_NOFILE)) {
        writer_arm(w);
        ret = avio_open2(&w->oc->pb, url, AVIO_FLAG_WRITE, &w->oc->interrupt_callback, nullptr);
        w->deadline = 0;
        if (ret < 0) {
            av_dict_free(&enc_opts); av_dict_free(&fmt_opts);
            writer_free(w);
            return fail(ret, "output '%s': cannot open for writing: %s", url, av_err(ret).c_str());
        }
    }
    writer_arm(w);
    ret = avformat_write_header(w->oc, &fmt_opts);
    w->deadline = 0;
    if (ret < 0) {
        av_dict_free(&enc_opts); av_dict_free(&fmt_opts);
        writer_free(w);
        return fail(ret, "output '%s': cannot write header: %s", url, av_err(ret).c_str());
    }
    w->header_written = true;
    // An option that neither the encoder nor the muxer took is a mistake worth naming.
    for (const AVDictionaryEntry* e = nullptr; (e = av_dict_get(enc_opts, "", e, AV_DICT_IGNORE_SUFFIX));) {
        if (av_dict_get(fmt_opts, e->key, nullptr, 0)) {
            std::string key = e->key;
            av_dict_free(&enc_opts); av_dict_free(&fmt_opts);
            writer_free(w);
            return fail(SV_E_UNKNOWN_OPTION, "output '%s': option '%s' not recognised by encoder %s or the muxer", url, key.c_str(), codec_name);
        }
    }
    av_dict_free(&enc_opts); av_dict_free(&fmt_opts);
    w->frame = av_frame_alloc();
    w->frame->format = pix;
    w->frame->width = width;
    w->frame->height = height;
    if ((ret = av_frame_get_buffer(w->frame, 0)) < 0) { writer_free(w); return fail(ret, "output '%s': out of memory", url); }
    w->pkt = av_packet_alloc();
    w->sws = sws_getContext(width, height, AV_PIX_FMT_BGR24, width, height, pix, SWS_BILINEAR, nullptr, nullptr, nullptr);
    if (!w->sws) { writer_free(w); return fail(SV_E_ARGUMENT, "output '%s': cannot convert bgr24 to %s", url, av_get_pix_fmt_name(pix)); }
    *out = w;
    return 0;
}

static int writer_drain(sv_writer* w) {
    for (;;) {
        int ret = avcodec_receive_packet(w->enc, w->pkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return 0;
        if (ret < 0) return fail(ret, "output '%s': encode: %s", w->url.c_str(), av_err(ret).c_str());
        av_packet_rescale_ts(w->pkt, w->enc->time_base, w->st->time_base);
        w->pkt->stream_index = w->st->index;
        writer_arm(w);
        ret = av_interleaved_write_frame(w->oc, w->pkt);
        w->deadline = 0;
        if (ret < 0) return fail(ret, "output '%s': write: %s", w->url.c_str(), av_err(ret).c_str());
    }
}

int sv_writer_write(sv_writer* w, const uint8_t* src, int stride, int64_t pts_us) {
    if (!w || !src || stride < w->width * 3) return fail(SV_E_ARGUMENT, "write: bad buffer");
    if (w->finished) return fail(SV_E_STATE, "output '%s': already finished", w->url.c_str());
    int ret = av_frame_make_writable(w->frame);
    if (ret < 0) return fail(ret, "output '%s': %s", w->url.c_str(), av_err(ret).c_str());
    const uint8_t* planes[4] = {src, nullptr, nullptr, nullptr};
    int strides[4] = {stride, 0, 0, 0};
    sws_scale(w->sws, planes, strides, 0, w->height, w->frame->data, w->frame->linesize);
    int64_t pts = pts_us >= 0 ? av_rescale_q(pts_us, AVRational{1, 1000000}, w->enc->time_base)
                              : av_rescale_q(w->frames, av_inv_q(w->fps), w->enc->time_base);
    if (w->last_pts != INT64_MIN && pts <= w->last_pts) pts = w->last_pts + 1;  // keep pts strictly increasing
    w->last_pts = pts;
    w->frame->pts = pts;
    ret = avcodec_send_frame(w->enc, w->frame);
    if (ret < 0) return fail(ret, "output '%s': encode: %s", w->url.c_str(), av_err(ret).c_str());
    w->frames++;
    return writer_drain(w);
}

int sv_writer_finish(sv_writer* w) {
    if (!w) return fail(SV_E_ARGUMENT, "finish: null writer");
    if (w->finished) return 0;
    w->finished = true;
    int ret = avcodec_send_frame(w->enc, nullptr);
    int first_error = 0;
    if (ret >= 0) first_error = writer_drain(w);
    if (w->header_written) {
        writer_arm(w);
        ret = av_write_trailer(w->oc);
        w->deadline = 0;
        if (ret < 0 && first_error == 0) first_error = fail(ret, "output '%s': write trailer: %s", w->url.c_str(), av_err(ret).c_str());
    }
    if (!(w->oc->oformat->flags & AVFMT_NOFILE)) {
        ret = avio_closep(&w->oc->pb);
        if (ret < 0 && first_error == 0) first_error = fail(ret, "output '%s': close: %s", w->url.c_str(), av_err(ret).c_str());
    }
    return first_error;
}

int64_t sv_writer_frames(sv_writer* w) { return w ? w->frames : 0; }

void sv_writer_close(sv_writer* w) {
    if (!w) return;
    if (!w->finished) sv_writer_finish(w);
    writer_free(w);
}

}  // extern "C"
