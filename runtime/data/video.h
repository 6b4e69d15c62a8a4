// Video for the `video` block: files demuxed and decoded with FFmpeg's
// libraries, a few frames taken from each clip (a count spread evenly over
// it, or a rate), scaled as they are converted, and nothing else of the clip
// kept: decoding streams through it packet by packet.
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include "interpreter/pipeline.h"
#include "runtime/data/image.h"
#include "runtime/data/random.h"

namespace pipelang::runtime {

// What the `video` block asks of every file.
struct VideoBlock {
    int64_t frames = 8;         // frames per item
    std::optional<double> fps;  // frames taken at this rate; else spread evenly over the clip
    int channels = 3;           // 1: grey, 3: RGB
    int height = 0, width = 0;  // frames scaled to this size as they are decoded; 0: the clip's own
};
VideoBlock videoBlock(const Value* call);

// The frames of a clip's video stream in the order they are shown: their
// presentation times in seconds (the stream's timestamps, as ffprobe prints
// them), from the packets alone, without decoding.
struct VideoTimes {
    std::vector<double> seconds;
    int width = 0, height = 0;
};
// Throws RuntimeError naming the file and what to do when it is missing, is
// not a video FFmpeg can read, has no video stream, a codec this FFmpeg
// cannot decode, or no frames.
VideoTimes probeVideo(const std::filesystem::path& path);

// Which frames (indices into VideoTimes::seconds) an item takes: `frames`
// spread evenly from the first to the last (round(linspace(0, n − 1, frames)),
// as PyTorchVideo's UniformTemporalSubsample), or with `fps`, the frame on
// screen at each of `frames` instants 1/fps apart, from a start drawn by
// `random` (training) or centred in the clip; instants past its end show the
// last frame.
std::vector<int64_t> chooseFrames(const std::vector<double>& seconds, const VideoBlock& block, Rng* random);

// Decodes the clip and returns the frames at `indices` (presentation order;
// repeats allowed), converted to the block's channels and size. Only those
// frames are kept. Throws RuntimeError naming the file when decoding fails or
// the clip ends before them.
std::vector<Image> decodeFrames(const std::filesystem::path& path, const std::vector<int64_t>& indices,
                                const VideoBlock& block);

// probeVideo, chooseFrames and decodeFrames in one.
std::vector<Image> readClip(const std::filesystem::path& path, const VideoBlock& block, Rng* random);

}  // namespace pipelang::runtime
