// Video: frame counts and times against what ffprobe reports, the frames
// decoded against what the ffmpeg tool decodes, which frames an item takes
// (against torch.linspace's rounding and by hand for a rate), bad files, and
// clips through `pipe run`, `show` and `predict` with the `frames` backbone.
// The clips are made here with the ffmpeg tool (scripts/install-deps).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "runtime/data/video.h"
#include "runtime/models/network.h"
#include "tests/runtime/compiled.h"
#include "tests/runtime/pipe_command.h"
#include "tests/runtime/temp_dir.h"
#include "tests/runtime/test_files.h"

using namespace pipelang;
using namespace pipelang::runtime;
namespace fs = std::filesystem;

namespace {

// Runs the ffmpeg tool (quietly); fails the test when it fails.
void ffmpeg(const std::string& args) {
    CommandResult r = runShell("ffmpeg -v error -y " + args);
    ASSERT_EQ(r.status, 0) << "ffmpeg " << args << "\n" << r.output;
}

// A clip of grey frames whose brightness is 8 × the frame's number (so a
// decoded frame tells which it is), `seconds` long at `fps`, in `codec`.
fs::path numberedClip(const fs::path& path, int fps, double seconds, const std::string& codec) {
    fs::create_directories(path.parent_path());
    ffmpeg("-f lavfi -i color=c=black:s=32x24:r=" + std::to_string(fps) + ":d=" + std::to_string(seconds) +
           " -vf \"geq=lum='min(8*N\\,255)':cb=128:cr=128\" " + codec + " -pix_fmt yuv420p " + path.string());
    return path;
}

// ffprobe's presentation times of the video stream's frames, in seconds.
std::vector<double> ffprobeTimes(const fs::path& path) {
    CommandResult r = runShell(
        "ffprobe -v error -select_streams v:0 -show_entries frame=best_effort_timestamp_time "
        "-of csv=p=0 " +
        path.string());
    EXPECT_EQ(r.status, 0) << r.output;
    std::vector<double> times;
    std::istringstream lines(r.output);
    std::string line;
    while (std::getline(lines, line))
        if (!line.empty() && line.find_first_not_of("0123456789.,") == std::string::npos)
            times.push_back(std::stod(line.substr(0, line.find(','))));
    return times;
}

// Every frame as the ffmpeg tool decodes it to 8-bit grey: {frames, H, W}.
std::vector<std::vector<uint8_t>> ffmpegGreyFrames(const fs::path& path, int width, int height) {
    fs::path raw = path.string() + ".gray";
    CommandResult r = runShell("ffmpeg -v error -y -i " + path.string() + " -f rawvideo -pix_fmt gray " + raw.string());
    EXPECT_EQ(r.status, 0) << r.output;
    std::string bytes = readFile(raw);
    std::vector<std::vector<uint8_t>> frames;
    const size_t frame = size_t(width) * size_t(height);
    for (size_t at = 0; at + frame <= bytes.size(); at += frame)
        frames.emplace_back(bytes.begin() + long(at), bytes.begin() + long(at + frame));
    return frames;
}

class VideoFiles : public testing::Test {
protected:
    TempDir dir_{"pipe-video"};
};

TEST_F(VideoFiles, FrameCountsAndTimesAreFfprobes) {
    // H.264 with B-frames (decode order is not display order), VP9, and a lossless FFV1.
    const std::vector<std::pair<std::string, std::string>> clips = {
        {"h264.mp4", "-c:v libx264 -preset veryfast -bf 2"},
        {"vp9.webm", "-c:v libvpx-vp9 -deadline realtime"},
        {"ffv1.mkv", "-c:v ffv1"},
    };
    for (const auto& [name, codec] : clips) {
        fs::path clip = numberedClip(dir_ / name, name == "vp9.webm" ? 25 : 12, 2.5, codec);
        VideoTimes ours = probeVideo(clip);
        std::vector<double> theirs = ffprobeTimes(clip);
        ASSERT_FALSE(theirs.empty()) << name;
        ASSERT_EQ(ours.seconds.size(), theirs.size()) << name;
        for (size_t i = 0; i < theirs.size(); ++i) EXPECT_NEAR(ours.seconds[i], theirs[i], 1e-5) << name << " " << i;
        EXPECT_EQ(ours.width, 32);
        EXPECT_EQ(ours.height, 24);
    }
}

TEST_F(VideoFiles, DecodedFramesAreTheFfmpegToolsOwn) {
    fs::path clip = numberedClip(dir_ / "h264.mp4", 10, 3.0, "-c:v libx264 -preset veryfast -bf 2");
    auto reference = ffmpegGreyFrames(clip, 32, 24);
    ASSERT_EQ(reference.size(), 30u);
    VideoBlock grey;
    grey.channels = 1;
    const std::vector<int64_t> wanted = {0, 7, 7, 13, 29, 2};  // any order, repeats allowed
    auto frames = decodeFrames(clip, wanted, grey);
    ASSERT_EQ(frames.size(), wanted.size());
    for (size_t k = 0; k < wanted.size(); ++k) {
        ASSERT_EQ(frames[k].channels, 1);
        ASSERT_EQ(frames[k].height, 24);
        ASSERT_EQ(frames[k].width, 32);
        int worst = 0;
        for (size_t i = 0; i < frames[k].pixels.size(); ++i)
            worst = std::max(worst, std::abs(int(frames[k].pixels[i]) - int(reference[size_t(wanted[k])][i])));
        EXPECT_LE(worst, 1) << "frame " << wanted[k];
    }
    // Colour and a size of the block's own: {3, 12, 16}.
    VideoBlock small;
    small.height = 12;
    small.width = 16;
    auto scaled = decodeFrames(clip, {5}, small);
    EXPECT_EQ(scaled[0].channels, 3);
    EXPECT_EQ(scaled[0].height, 12);
    EXPECT_EQ(scaled[0].width, 16);
    // A frame past the end is one error naming the file.
    std::string error = errorOf([&] { decodeFrames(clip, {30}, grey); });
    EXPECT_NE(error.find(clip.string()), std::string::npos) << error;
    EXPECT_NE(error.find("ends after 30 frames"), std::string::npos) << error;
}

TEST(VideoFrames, ACountIsSpreadAsTorchLinspaceRounds) {
    std::vector<double> seconds;
    for (int i = 0; i < 24; ++i) seconds.push_back(i / 12.0);
    for (int64_t count : {1, 2, 5, 8, 24, 40}) {
        VideoBlock block;
        block.frames = count;
        auto chosen = chooseFrames(seconds, block, nullptr);
        // PyTorchVideo's UniformTemporalSubsample: torch.linspace(0, n - 1, count).round().
        torch::Tensor expected = torch::linspace(0, 23, count, torch::kFloat32).round().to(torch::kLong);
        ASSERT_EQ(int64_t(chosen.size()), count);
        for (int64_t k = 0; k < count; ++k) EXPECT_EQ(chosen[size_t(k)], expected[k].item<int64_t>()) << count;
        Rng rng(3);
        EXPECT_EQ(chooseFrames(seconds, block, &rng), chosen) << "a count is the same in training";
    }
}

TEST(VideoFrames, ARateTakesTheFrameOnScreenAtEachInstant) {
    std::vector<double> seconds;
    for (int i = 0; i < 30; ++i) seconds.push_back(0.5 + i / 10.0);  // 3 s at 10 per second, from 0.5 s
    VideoBlock block;
    block.frames = 4;
    block.fps = 2.0;
    // Validation: the 2 s window centred in the 3 s clip, from 1.0 s: instants 1.0, 1.5, 2.0, 2.5.
    EXPECT_EQ(chooseFrames(seconds, block, nullptr), (std::vector<int64_t>{5, 10, 15, 20}));
    // Training: a random start in [0.5, 1.5], the frames still 1/fps apart, seeded.
    std::set<int64_t> firsts;
    for (uint64_t seed = 0; seed < 200; ++seed) {
        Rng rng(seed);
        auto chosen = chooseFrames(seconds, block, &rng);
        for (size_t k = 1; k < chosen.size(); ++k) EXPECT_EQ(chosen[k] - chosen[k - 1], 5);
        EXPECT_GE(chosen[0], 0);
        EXPECT_LE(chosen[0], 10);
        firsts.insert(chosen[0]);
        Rng again(seed);
        EXPECT_EQ(chooseFrames(seconds, block, &again), chosen);
    }
    EXPECT_GE(firsts.size(), 10u);
    // A window longer than the clip starts at its first frame; past its end the last frame repeats.
    block.frames = 5;
    block.fps = 1.0;
    EXPECT_EQ(chooseFrames(seconds, block, nullptr), (std::vector<int64_t>{0, 10, 20, 29, 29}));
}

TEST_F(VideoFiles, BadFilesAreOneClearErrorNamingTheFile) {
    auto expectError = [&](const fs::path& path, const std::string& words) {
        std::string error = errorOf([&] { readClip(path, VideoBlock{}, nullptr); });
        EXPECT_NE(error.find(path.string()), std::string::npos) << error;
        EXPECT_NE(error.find(words), std::string::npos) << error;
    };
    expectError(dir_ / "missing.mp4", "does not exist");
    expectError(writeText(dir_ / "notes.mp4", "not a video at all\n"), "is not a video FFmpeg can read");
    // Sound only.
    fs::path sound = dir_ / "tone.mka";
    ffmpeg("-f lavfi -i sine=frequency=440:duration=1 -c:a flac " + sound.string());
    expectError(sound, "has no video stream");
    // A codec this FFmpeg cannot decode: an AVI whose stream says it is `ZZZZ`.
    fs::path avi = dir_ / "odd.avi";
    ffmpeg("-f lavfi -i color=c=gray:s=16x16:r=5:d=1 -c:v rawvideo -pix_fmt bgr24 " + avi.string());
    std::string bytes = readFile(avi);
    for (size_t at = bytes.find("vids"); at != std::string::npos && at + 8 < bytes.size();) {
        bytes.replace(at + 4, 4, "ZZZZ");  // strh's handler
        break;
    }
    for (size_t at = bytes.find("strf"); at != std::string::npos;) {
        bytes.replace(at + 8 + 16, 4, "ZZZZ");  // BITMAPINFOHEADER's biCompression
        break;
    }
    std::ofstream(avi, std::ios::binary | std::ios::trunc) << bytes;
    expectError(avi, "cannot decode");
    // An MP4 cut short loses its index (written at the end).
    fs::path whole = numberedClip(dir_ / "whole.mp4", 10, 2.0, "-c:v libx264 -preset veryfast");
    std::string mp4 = readFile(whole);
    fs::path cut = writeText(dir_ / "cut.mp4", mp4.substr(0, mp4.size() / 2));
    std::string error = errorOf([&] { readClip(cut, VideoBlock{}, nullptr); });
    EXPECT_NE(error.find(cut.string()), std::string::npos) << error;
}

// A few clips of a square moving right or left (examples/make_moves.py's
// kind, made smaller), through the video block and the frames backbone.
class VideoRun : public testing::Test {
protected:
    void SetUp() override {
        for (const std::string direction : {"left", "right"})
            for (int i = 0; i < 8; ++i) {
                fs::path clip = dir_ / "clips" / direction / (std::to_string(i) + (i % 4 == 3 ? ".webm" : ".mp4"));
                fs::create_directories(clip.parent_path());
                const int start = direction == "right" ? 2 + i : 26 - i;
                const std::string x = std::to_string(start) + (direction == "right" ? "+" : "-") + "12*t";
                const std::string codec =
                    i % 4 == 3 ? "-c:v libvpx-vp9 -deadline realtime" : "-c:v libx264 -preset veryfast";
                ffmpeg("-f lavfi -i color=c=0x202020:s=32x32:r=" + std::to_string(8 + i) +
                       ":d=2 -f lavfi -i color=c=white:s=6x6:r=" + std::to_string(8 + i) +
                       ":d=2 -filter_complex \"[0][1]overlay=x='" + x + "':y=" + std::to_string(4 + 2 * i) +
                       ":shortest=1\" " + codec + " -pix_fmt yuv420p " + clip.string());
            }
    }
    std::string pipeText(const std::string& block, const std::string& backbone, const std::string& item = "[]") {
        return "seed 1\n"
               "data d {\n"
               "    source = folder(\"clips\", extensions = [\".mp4\", \".webm\"])\n"
               "    blocks = (" +
               block +
               ", category)\n"
               "    label = parent_label\n"
               "    split = stratified(valid = 0.25, seed = 1)\n"
               "    item = " +
               item +
               "\n"
               "    batch = [normalize()]\n"
               "    batch_size = 4\n"
               "}\n"
               "model m { backbone = " +
               backbone +
               " }\n"
               "train t { optimizer = adam(lr = 1e-2)  schedule = one_cycle(epochs = 12)  metrics = [accuracy] }\n";
    }
    TempDir dir_{"pipe-video-run"};
};

TEST_F(VideoRun, ClipsAreFramesThroughTheImageTransformsDrawnOncePerClip) {
    auto data = prepare(dir_.path(), pipeText("video(frames = 6, size = 16, channels = 1)", "frames(cnn())",
                                              "[random_crop(12), flip(p = 0.5)]"));
    ASSERT_NE(data, nullptr);
    EXPECT_EQ(data->info().input, "video");
    EXPECT_EQ(data->info().itemShape, (std::vector<int64_t>{6, 1, 12, 12}));
    EXPECT_EQ(data->size(Split::Train), 12);
    EXPECT_EQ(data->size(Split::Valid), 4);
    // Validation is fixed (the centre crop, no flip); training repeats for a seed and epoch.
    auto valid = epoch(*data, Split::Valid, 4, 2), validAgain = epoch(*data, Split::Valid, 4, 0);
    EXPECT_TRUE(torch::equal(valid[0].x, validAgain[0].x));
    auto train = epoch(*data, Split::Train, 4, 2, 3), trainAgain = epoch(*data, Split::Train, 4, 0, 3);
    EXPECT_TRUE(torch::equal(train[0].x, trainAgain[0].x));
    // Normalised with the training clips' statistics.
    torch::Tensor all = torch::cat({valid[0].x, train[0].x, train[1].x});
    EXPECT_NEAR(all.mean().item<double>(), 0.0, 0.35);
    // One draw per clip: its frames are cropped at one place. The square
    // moves along a row, so its height in the crop is the same in every
    // frame that shows it; a crop drawn per frame would move it by whole rows.
    for (const Batch& b : train)
        for (int64_t j = 0; j < b.x.size(0); ++j) {
            torch::Tensor bright = (b.x[j].select(1, 0) > 1.0).to(torch::kFloat64).sum(2);  // {T, H}
            torch::Tensor rowIndex = torch::arange(bright.size(1), torch::kFloat64);
            std::vector<double> heights;
            for (int64_t t = 0; t < bright.size(0); ++t)
                if (bright[t].sum().item<double>() > 0)
                    heights.push_back((bright[t] * rowIndex).sum().item<double>() / bright[t].sum().item<double>());
            for (double h : heights) EXPECT_NEAR(h, heights[0], 0.5) << "clip " << j;
        }
}

TEST_F(VideoRun, FramesBackboneLearnsDirectionThroughRunShowAndPredict) {
    fs::path file = writeText(dir_ / "moves.pipe", pipeText("video(frames = 6, size = 16, channels = 1)",
                                                            "frames(cnn(channels = [8, 16]), pool = \"lstm\")"));
    TrainedRun run = trainRun(file, dir_ / "runs");
    ASSERT_EQ(run.result.status, 0) << run.result.output;
    // Left from right needs the frames' order, which the LSTM reads: the last epoch's accuracy is 1.
    std::istringstream lines(run.result.output);
    std::string line, last;
    while (std::getline(lines, line))
        if (line.rfind("11 ", 0) == 0) last = line;
    EXPECT_NE(last.find("1.000000"), std::string::npos) << run.result.output;

    CommandResult shown = runPipeCommand("show " + file.string() + " --out " + (dir_ / "shown").string() + " --n 4");
    ASSERT_EQ(shown.status, 0) << shown.output;
    EXPECT_TRUE(fs::exists(dir_ / "shown" / "tiles" / "000.png"));

    fs::path right = dir_ / "clips" / "right" / "0.mp4", left = dir_ / "clips" / "left" / "1.mp4";
    CommandResult p = runPipeCommand("predict " + run.dir.string() + " " + right.string() + " " + left.string());
    ASSERT_EQ(p.status, 0) << p.output;
    EXPECT_NE(p.output.find(right.string() + ": right"), std::string::npos) << p.output;
    EXPECT_NE(p.output.find(left.string() + ": left"), std::string::npos) << p.output;
    fs::path text = writeText(dir_ / "notes.mp4", "not a video\n");
    CommandResult bad = runPipeCommand("predict " + run.dir.string() + " " + text.string());
    EXPECT_EQ(bad.status, 1) << bad.output;
    EXPECT_NE(bad.output.find(text.string()), std::string::npos) << bad.output;
    EXPECT_EQ(bad.output.find("terminate"), std::string::npos) << bad.output;
}

TEST_F(VideoRun, EveryPoolGivesOneVectorPerClipAndTheStateHasTheImageBackbonesNames) {
    auto data = prepare(dir_.path(), pipeText("video(frames = 4, size = 32)", "frames(resnet(depth = 18))"));
    ASSERT_NE(data, nullptr);
    auto batch = epoch(*data, Split::Valid, 4, 0)[0];
    for (const std::string pool : {"mean", "max", "lstm", "attention"}) {
        Compiled c = compile(dir_.path(), pipeText("video(frames = 4, size = 32)",
                                                   "frames(resnet(depth = 18), pool = \"" + pool + "\")"));
        const Section* model = c.compilation->pipeline.find("model", "m");
        ASSERT_NE(model, nullptr);
        auto network = buildNetwork(*model, data->info(), dir_.path());
        network->eval();
        torch::Tensor y = network->forward(batch);
        EXPECT_EQ(y.sizes(), (std::vector<int64_t>{4, 2})) << pool;
        auto state = namedState(*network);
        EXPECT_EQ(state.front().first, "conv1.weight") << pool;  // torchvision's names, as if alone
        bool head = false, pooled = false;
        for (const auto& [name, _] : state) {
            head = head || name == "fc.weight";
            pooled = pooled || name.rfind("pool.", 0) == 0;
        }
        EXPECT_TRUE(head) << pool;
        EXPECT_EQ(pooled, pool == "lstm" || pool == "attention") << pool;
        // Every parameter is in one layer group: resnet's two, the pooling, the head.
        std::vector<std::string> names;
        int64_t grouped = 0;
        for (const auto& g : network->layerGroups()) {
            names.push_back(g.name);
            grouped += int64_t(g.parameters.size());
        }
        EXPECT_EQ(names,
                  (std::vector<std::string>{"backbone.conv1..layer2", "backbone.layer3..layer4", "pool", "head"}));
        EXPECT_EQ(grouped, int64_t(network->parameters().size())) << pool;
    }
    // Frozen: the image backbone's convolutions stop, its batch norms and the LSTM over time learn.
    Compiled c = compile(dir_.path(), pipeText("video(frames = 4, size = 32)",
                                               "frames(resnet(depth = 18, freeze = true), pool = \"lstm\")"));
    auto network = buildNetwork(*c.compilation->pipeline.find("model", "m"), data->info(), dir_.path());
    for (const auto& p : network->named_parameters()) {
        bool learns = p.key().rfind("pool.", 0) == 0 || p.key().find("bn") != std::string::npos ||
                      p.key().find("downsample.1") != std::string::npos || p.key().rfind("fc.", 0) == 0;
        EXPECT_EQ(p.value().requires_grad(), learns) << p.key();
    }
}

}  // namespace
