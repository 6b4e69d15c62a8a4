#include "runtime/data/video.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>

#include "runtime/error.h"
#include "runtime/values.h"

namespace pipelang::runtime {

namespace {

std::string averror(int code) {
    char text[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(code, text, sizeof text);
    return text;
}

// FFmpeg prints its own warnings to stderr; pipe says what matters itself,
// once, naming the file.
void quietFfmpeg() {
    static std::once_flag once;
    std::call_once(once, [] { av_log_set_level(AV_LOG_FATAL); });
}

struct FormatCloser {
    void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
struct CodecFreer {
    void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct PacketFreer {
    void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameFreer {
    void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct ScalerFreer {
    void operator()(SwsContext* s) const { sws_freeContext(s); }
};

// An open clip: its container and the video stream pipe reads.
class VideoFile {
public:
    explicit VideoFile(const std::filesystem::path& path) : path_(path) {
        quietFfmpeg();
        std::error_code error;
        if (!std::filesystem::is_regular_file(path, error))
            throw RuntimeError("video file `" + path.string() + "` does not exist or is not a file; check the path.");
        AVFormatContext* raw = nullptr;
        if (int code = avformat_open_input(&raw, path.c_str(), nullptr, nullptr); code < 0)
            throw RuntimeError("video file `" + path.string() + "` is not a video FFmpeg can read (" + averror(code) +
                               "); give MP4, WebM, MKV, AVI or another container FFmpeg knows.");
        format_.reset(raw);
        if (int code = avformat_find_stream_info(raw, nullptr); code < 0)
            throw RuntimeError("video file `" + path.string() + "` cannot be read (" + averror(code) +
                               "); it may be damaged: check it with `ffprobe`.");
        stream_ = av_find_best_stream(raw, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
        if (stream_ < 0)
            throw RuntimeError("video file `" + path.string() +
                               "` has no video stream (only sound or data); give files with pictures.");
        const AVCodecParameters* parameters = raw->streams[stream_]->codecpar;
        if (int64_t(parameters->width) * parameters->height > kMaxImagePixels)
            throw RuntimeError("video file `" + path.string() + "` says its frames are " +
                               std::to_string(parameters->width) + "×" + std::to_string(parameters->height) +
                               " pixels, more than pipe decodes (" + std::to_string(kMaxImagePixels) +
                               "); the file is damaged or too large.");
        codec_ = avcodec_find_decoder(parameters->codec_id);
        if (!codec_) {
            // A codec FFmpeg has no name for is known by the file's four-character tag.
            char tag[AV_FOURCC_MAX_STRING_SIZE] = {0};
            std::string name = parameters->codec_id != AV_CODEC_ID_NONE
                                   ? "`" + std::string(avcodec_get_name(parameters->codec_id)) + "`"
                                   : "tagged `" + std::string(av_fourcc_make_string(tag, parameters->codec_tag)) + "`";
            throw RuntimeError("video file `" + path.string() + "` uses the codec " + name +
                               ", which this FFmpeg cannot decode; convert it, e.g. `ffmpeg -i " + path.string() +
                               " -c:v libx264 clip.mp4`.");
        }
    }

    AVFormatContext* format() const { return format_.get(); }
    AVStream* stream() const { return format_->streams[stream_]; }
    int streamIndex() const { return stream_; }
    const std::filesystem::path& path() const { return path_; }

    // A decoder for the stream, on one thread: the loader decodes several
    // clips at once, one per worker.
    std::unique_ptr<AVCodecContext, CodecFreer> decoder() const {
        std::unique_ptr<AVCodecContext, CodecFreer> context(avcodec_alloc_context3(codec_));
        if (!context) throw RuntimeError("out of memory opening video file `" + path_.string() + "`");
        avcodec_parameters_to_context(context.get(), stream()->codecpar);
        context->thread_count = 1;
        if (int code = avcodec_open2(context.get(), codec_, nullptr); code < 0)
            throw RuntimeError("video file `" + path_.string() + "`: its codec `" + codec_->name +
                               "` cannot be opened (" + averror(code) + ").");
        return context;
    }

private:
    std::filesystem::path path_;
    std::unique_ptr<AVFormatContext, FormatCloser> format_;
    int stream_ = -1;
    const AVCodec* codec_ = nullptr;
};

// A decoded frame as the block wants it: scaled to its size (or kept) and
// converted to grey or RGB.
Image convertFrame(const AVFrame* frame, const VideoBlock& block, std::unique_ptr<SwsContext, ScalerFreer>& scaler) {
    const int height = block.height > 0 ? block.height : frame->height;
    const int width = block.width > 0 ? block.width : frame->width;
    const AVPixelFormat to = block.channels == 1 ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_RGB24;
    scaler.reset(sws_getCachedContext(scaler.release(), frame->width, frame->height, AVPixelFormat(frame->format),
                                      width, height, to, SWS_BILINEAR, nullptr, nullptr, nullptr));
    if (!scaler) throw RuntimeError("cannot convert frames of pixel format " + std::to_string(frame->format));
    std::vector<uint8_t> interleaved(size_t(height) * size_t(width) * size_t(block.channels));
    uint8_t* planes[4] = {interleaved.data(), nullptr, nullptr, nullptr};
    int strides[4] = {width * block.channels, 0, 0, 0};
    sws_scale(scaler.get(), frame->data, frame->linesize, 0, frame->height, planes, strides);
    return fromInterleaved(interleaved.data(), block.channels, height, width);
}

}  // namespace

VideoBlock videoBlock(const Value* call) {
    VideoBlock block;
    block.frames = intArg(call, "frames");
    if (const Value* fps = argOf(call, "fps")) block.fps = fps->number;
    block.channels = int(intArg(call, "channels"));
    auto [height, width] = sizeArg(call, "size");
    block.height = height;
    block.width = width;
    return block;
}

VideoTimes probeVideo(const std::filesystem::path& path) {
    VideoFile file(path);
    AVStream* stream = file.stream();
    const double unit = av_q2d(stream->time_base);
    std::vector<int64_t> stamps;
    std::unique_ptr<AVPacket, PacketFreer> packet(av_packet_alloc());
    int code = 0;
    while ((code = av_read_frame(file.format(), packet.get())) >= 0) {
        if (packet->stream_index == file.streamIndex()) {
            // A packet without a presentation time (raw streams) is shown
            // after the one before it.
            int64_t pts = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
            if (pts == AV_NOPTS_VALUE)
                pts = stamps.empty() ? 0 : stamps.back() + std::max<int64_t>(1, packet->duration);
            stamps.push_back(pts);
        }
        av_packet_unref(packet.get());
    }
    if (code != AVERROR_EOF && stamps.empty())
        throw RuntimeError("video file `" + path.string() + "` cannot be read (" + averror(code) +
                           "); it may be damaged: check it with `ffprobe`.");
    if (stamps.empty())
        throw RuntimeError("video file `" + path.string() + "` holds no video frames; give clips with pictures.");
    std::sort(stamps.begin(), stamps.end());
    VideoTimes times;
    times.width = stream->codecpar->width;
    times.height = stream->codecpar->height;
    for (int64_t s : stamps) times.seconds.push_back(double(s) * unit);
    return times;
}

std::vector<int64_t> chooseFrames(const std::vector<double>& seconds, const VideoBlock& block, Rng* random) {
    const int64_t n = int64_t(seconds.size());
    std::vector<int64_t> chosen;
    if (n == 0) return chosen;
    if (!block.fps) {
        for (int64_t k = 0; k < block.frames; ++k) {
            double at = block.frames == 1 ? 0.0 : double(k) * double(n - 1) / double(block.frames - 1);
            chosen.push_back(std::clamp<int64_t>(std::llround(std::nearbyint(at)), 0, n - 1));
        }
        return chosen;
    }
    // The clip lasts from its first frame to the end of its last one (a
    // frame's length taken from the one before it).
    const double first = seconds.front();
    const double step = n > 1 ? seconds[size_t(n - 1)] - seconds[size_t(n - 2)] : 1.0 / *block.fps;
    const double length = seconds.back() - first + step;
    const double window = double(block.frames) / *block.fps;
    const double slack = std::max(0.0, length - window);
    const double start = first + (random ? random->uniform() * slack : slack / 2);
    for (int64_t k = 0; k < block.frames; ++k) {
        // The frame on screen at the instant: the last one shown at or before it
        // (a microsecond's tolerance for timestamps rounded by the container).
        double at = start + double(k) / *block.fps + 1e-6;
        auto after = std::upper_bound(seconds.begin(), seconds.end(), at);
        chosen.push_back(std::max<int64_t>(0, int64_t(after - seconds.begin()) - 1));
    }
    return chosen;
}

std::vector<Image> decodeFrames(const std::filesystem::path& path, const std::vector<int64_t>& indices,
                                const VideoBlock& block) {
    VideoFile file(path);
    auto decoder = file.decoder();
    // Wanted frames by their place in presentation order, each asked for by
    // one or more positions of the item.
    std::multimap<int64_t, size_t> wanted;
    for (size_t k = 0; k < indices.size(); ++k) wanted.emplace(indices[k], k);
    const int64_t last = indices.empty() ? -1 : *std::max_element(indices.begin(), indices.end());
    std::vector<Image> out(indices.size());
    std::unique_ptr<AVPacket, PacketFreer> packet(av_packet_alloc());
    std::unique_ptr<AVFrame, FrameFreer> frame(av_frame_alloc());
    std::unique_ptr<SwsContext, ScalerFreer> scaler;
    int64_t shown = 0;  // frames decoded so far, in presentation order
    auto drain = [&] {
        int code;
        while ((code = avcodec_receive_frame(decoder.get(), frame.get())) >= 0) {
            auto [from, to] = wanted.equal_range(shown);
            if (from != to) {
                Image image = convertFrame(frame.get(), block, scaler);
                for (auto it = from; it != to; ++it) out[it->second] = image;
            }
            ++shown;
            av_frame_unref(frame.get());
        }
        if (code != AVERROR(EAGAIN) && code != AVERROR_EOF)
            throw RuntimeError("video file `" + path.string() + "` is damaged: frame " + std::to_string(shown + 1) +
                               " cannot be decoded (" + averror(code) + "); re-encode it or leave it out " +
                               "(`on_bad = \"skip\"`).");
    };
    while (shown <= last) {
        int code = av_read_frame(file.format(), packet.get());
        if (code == AVERROR_EOF) break;
        if (code < 0)
            throw RuntimeError("video file `" + path.string() + "` cannot be read after frame " +
                               std::to_string(shown) + " (" + averror(code) + "); it may be cut short.");
        if (packet->stream_index == file.streamIndex()) {
            code = avcodec_send_packet(decoder.get(), packet.get());
            av_packet_unref(packet.get());
            if (code < 0 && code != AVERROR(EAGAIN))
                throw RuntimeError("video file `" + path.string() + "` is damaged: frame " + std::to_string(shown + 1) +
                                   " cannot be decoded (" + averror(code) +
                                   "); re-encode it or leave it out (`on_bad = \"skip\"`).");
            drain();
        } else {
            av_packet_unref(packet.get());
        }
    }
    if (shown <= last) {
        avcodec_send_packet(decoder.get(), nullptr);  // flush the frames the decoder holds back
        drain();
    }
    if (shown <= last)
        throw RuntimeError("video file `" + path.string() + "` ends after " + std::to_string(shown) +
                           " frames, before frame " + std::to_string(last + 1) +
                           " that its packets promise; it may be cut short: re-encode it or leave it out "
                           "(`on_bad = \"skip\"`).");
    return out;
}

std::vector<Image> readClip(const std::filesystem::path& path, const VideoBlock& block, Rng* random) {
    return decodeFrames(path, chooseFrames(probeVideo(path).seconds, block, random), block);
}

}  // namespace pipelang::runtime
