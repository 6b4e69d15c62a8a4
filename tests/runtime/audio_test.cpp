// Sound: spectrogram, mel spectrogram, MFCC and decibels against torchaudio
// 0.13 on the same waveforms (tests/runtime/make_audio.py); reading WAV, FLAC
// and Ogg Vorbis, resampling, cutting and padding to the block's length; bad
// files; SpecAugment's masks; and sound data through `pipe run`, `show` and
// `predict`.
#include <gtest/gtest.h>
#include <sndfile.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "runtime/data/audio.h"
#include "tests/runtime/compiled.h"
#include "tests/runtime/pipe_command.h"
#include "tests/runtime/temp_dir.h"

using namespace pipelang::runtime;
namespace fs = std::filesystem;

namespace {

const std::string kAudioScript = "/usr/bin/python3 " PIPE_SOURCE_DIR "/tests/runtime/make_audio.py";

// A tensor of a safetensors file by name.
torch::Tensor tensorNamed(const NamedTensors& file, const std::string& name) {
    for (const auto& [k, v] : file.tensors)
        if (k == name) return v;
    ADD_FAILURE() << "no tensor " << name;
    return torch::zeros({1});
}

// The largest |a − b| / max(1, |b|): absolute below 1, relative above.
double worstDifference(const torch::Tensor& a, const torch::Tensor& b) {
    torch::Tensor x = a.to(torch::kFloat64), y = b.to(torch::kFloat64);
    return ((x - y).abs() / y.abs().clamp_min(1.0)).max().item<double>();
}

// The `item` list of a data block that reads sound at `rate`.
AudioTransforms transformsOf(const fs::path& dir, int64_t rate, const std::string& items, Compiled& keep) {
    keep = compile(
        dir, "data d {\n    source = folder(\"sounds\", extensions = [\".wav\"])\n    blocks = (audio(sample_rate = " +
                 std::to_string(rate) + "), category)\n    item = " + items + "\n}\n");
    return keep.data ? AudioTransforms(keep.data->field("item"), rate) : AudioTransforms();
}

// Writes `wave` {channels, samples} to `path` with libsndfile in `format`.
void writeSound(const fs::path& path, const torch::Tensor& wave, int rate, int format) {
    SF_INFO info{};
    info.samplerate = rate;
    info.channels = int(wave.size(0));
    info.format = format;
    SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &info);
    ASSERT_NE(file, nullptr) << sf_strerror(nullptr);
    torch::Tensor interleaved = wave.t().contiguous();
    sf_writef_float(file, interleaved.data_ptr<float>(), wave.size(1));
    sf_close(file);
}

// A tone of `hz` with a little noise, `seconds` long.
torch::Tensor tone(double hz, double seconds, int rate, int channels, uint64_t seed) {
    const int64_t n = int64_t(seconds * rate);
    torch::Tensor t = torch::arange(n, torch::kFloat64) / double(rate);
    Rng rng(seed);
    double phase = rng.uniform(0, 6.28), amplitude = rng.uniform(0.2, 0.6);
    torch::Tensor wave = amplitude * torch::sin(2 * M_PI * hz * t + phase);
    torch::Tensor noise = torch::randn({channels, n}, torch::TensorOptions().dtype(torch::kFloat64)) * 0.02;
    return (wave.unsqueeze(0) + noise).to(torch::kFloat32);
}

class AudioTorchaudio : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!pythonCanImport("torch, torchaudio")) return;
        dir_ = new TempDir("pipe-audio-ref");
        made_ = std::system((kAudioScript + " transforms " + dir_->path().string()).c_str()) == 0 &&
                std::system((kAudioScript + " files " + dir_->path().string()).c_str()) == 0;
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }
    void SetUp() override {
        if (!pythonCanImport("torch, torchaudio")) GTEST_SKIP() << "/usr/bin/python3 cannot import torchaudio";
        ASSERT_TRUE(made_) << "make_audio.py failed";
    }
    static inline TempDir* dir_ = nullptr;
    static inline bool made_ = false;
};

}  // namespace

TEST_F(AudioTorchaudio, SpectrogramMelMfccAndDecibelsMatchTorchaudio) {
    auto reference = readSafetensors(dir_->path() / "transforms.safetensors");
    std::ifstream in(dir_->path() / "cases.json");
    auto cases = nlohmann::json::parse(in);
    ASSERT_EQ(cases.size(), 5u);
    for (size_t n = 0; n < cases.size(); ++n) {
        const std::string prefix = std::to_string(n) + ".";
        torch::Tensor wave = tensorNamed(reference, prefix + "wave");
        int64_t rate = cases[n]["rate"].get<int64_t>();
        for (const auto& [transform, items] : cases[n]["items"].items()) {
            Compiled keep;
            AudioTransforms transforms = transformsOf(dir_->path(), rate, items.get<std::string>(), keep);
            Rng rng(1);
            torch::Tensor ours = transforms.apply(wave, rng, false);
            torch::Tensor theirs = tensorNamed(reference, prefix + transform);
            ASSERT_EQ(ours.sizes(), theirs.sizes()) << "case " << n << " " << items;
            EXPECT_LE(worstDifference(ours, theirs), 1e-4) << "case " << n << " " << items;
        }
    }
}

TEST_F(AudioTorchaudio, ReadsWavFlacAndOggAsTorchaudioDoes) {
    auto reference = readSafetensors(dir_->path() / "files.safetensors");
    for (const char* ext : {"wav", "flac", "ogg"}) {
        int64_t rate = 0;
        torch::Tensor ours = readSound(dir_->path() / (std::string("tone.") + ext), rate);
        torch::Tensor theirs = tensorNamed(reference, ext);
        EXPECT_EQ(rate, 22050) << ext;
        ASSERT_EQ(ours.sizes(), theirs.sizes()) << ext;
        EXPECT_LE((ours - theirs).abs().max().item<double>(), 1e-4) << ext;
    }
}

TEST_F(AudioTorchaudio, ResamplesToTheBlocksRateAsTorchaudioDoes) {
    auto reference = readSafetensors(dir_->path() / "files.safetensors");
    torch::Tensor theirs = tensorNamed(reference, "resampled");  // 22050 → 16000 Hz, stereo
    AudioBlock block;
    block.sampleRate = 16000;
    block.mono = false;
    torch::Tensor ours = loadSound(dir_->path() / "tone.wav", block);
    // The same length, ceil(11025 × 16000 / 22050) = 8000 ...
    ASSERT_EQ(ours.sizes(), theirs.sizes());
    EXPECT_EQ(ours.size(1), 8000);
    // ... and, two resamplers (soxr's high quality,
    // torchaudio's Hann-windowed width 6) agreeing away from the ends, where
    // each pads differently, to within 2e-3 on a signal of peak ~0.6.
    auto middle = [](const torch::Tensor& t) { return t.narrow(1, 64, t.size(1) - 128); };
    EXPECT_LE((middle(ours) - middle(theirs)).abs().max().item<double>(), 2e-3);
    // Mono is the channels' mean.
    block.mono = true;
    torch::Tensor mono = loadSound(dir_->path() / "tone.wav", block);
    ASSERT_EQ(mono.size(0), 1);
    EXPECT_LE((middle(mono) - middle(theirs.mean(0, true))).abs().max().item<double>(), 2e-3);
}

TEST_F(AudioTorchaudio, BadFilesAreOneClearErrorNamingTheFile) {
    struct Case {
        const char* file;
        const char* says;
    };
    for (const Case& c : {Case{"cut.wav", "is cut short"}, Case{"text.wav", "is not a sound file"},
                          Case{"codec.wav", "cannot be read"}, Case{"missing.wav", "does not exist"}}) {
        fs::path path = dir_->path() / c.file;
        std::string error = errorOf([&] {
            int64_t rate = 0;
            readSound(path, rate);
        });
        EXPECT_NE(error.find("`" + path.string() + "`"), std::string::npos) << error;
        EXPECT_NE(error.find(c.says), std::string::npos) << error;
    }
    std::string error = errorOf([&] {
        int64_t rate = 0;
        readSound(dir_->path() / "text.wav", rate);
    });
    EXPECT_NE(error.find("give a WAV, FLAC or Ogg Vorbis file"), std::string::npos) << error;
    EXPECT_NE(error.find("on_bad = \"skip\""), std::string::npos) << error;
}

TEST(Audio, ClipsAreCutOrPaddedToTheDuration) {
    torch::Tensor wave = torch::arange(10, torch::kFloat32).unsqueeze(0);
    // Shorter: silence at the end.
    torch::Tensor padded = fitDuration(wave, 14, nullptr);
    EXPECT_TRUE(torch::equal(padded.narrow(1, 0, 10), wave));
    EXPECT_EQ(padded.narrow(1, 10, 4).abs().sum().item<float>(), 0.f);
    // Longer: the middle, unless a generator draws the place (training).
    EXPECT_TRUE(torch::equal(fitDuration(wave, 4, nullptr), torch::tensor({{3.f, 4.f, 5.f, 6.f}})));
    std::set<float> starts;
    for (uint64_t seed = 0; seed < 50; ++seed) {
        Rng rng(seed);
        torch::Tensor cut = fitDuration(wave, 4, &rng);
        ASSERT_EQ(cut.size(1), 4);
        float first = cut[0][0].item<float>();
        EXPECT_TRUE(torch::equal(cut, torch::arange(first, first + 4, torch::kFloat32).unsqueeze(0)));
        starts.insert(first);
    }
    EXPECT_EQ(starts.size(), 7u);  // every place from 0 to 6
}

TEST(Audio, MasksHideARunOfFramesOrBandsOfTrainingItemsOnly) {
    TempDir dir("pipe-audio-mask");
    Compiled keep;
    torch::Tensor spec = torch::rand({2, 40, 101});
    for (const char* items : {"[time_mask(max = 20)]", "[freq_mask(max = 10)]"}) {
        AudioTransforms t = transformsOf(dir.path(), 16000, items, keep);
        Rng rng(5);
        EXPECT_TRUE(torch::equal(t.apply(spec, rng, false), spec)) << items;
        bool time = std::string(items).find("time") != std::string::npos;
        int masked = 0;
        for (uint64_t seed = 0; seed < 20; ++seed) {
            Rng a(seed), b(seed);
            torch::Tensor x = t.apply(spec, a, true);
            EXPECT_TRUE(torch::equal(x, t.apply(spec, b, true))) << "the same seed, the same mask";
            // Hidden: whole frames (or bands) of every channel, fewer than `max`, set to the mean.
            torch::Tensor changed = (x != spec).any(0).any(time ? 0 : 1);
            int64_t hidden = changed.sum().item<int64_t>();
            EXPECT_LT(hidden, time ? 20 : 10);
            if (hidden > 0) {
                ++masked;
                torch::Tensor rows = changed.nonzero().reshape({-1});
                EXPECT_EQ(rows[-1].item<int64_t>() - rows[0].item<int64_t>() + 1, hidden) << "one run";
                torch::Tensor kept = x.index_select(time ? 2 : 1, rows);
                EXPECT_NEAR(kept.min().item<float>(), spec.mean().item<float>(), 1e-6);
                EXPECT_NEAR(kept.max().item<float>(), spec.mean().item<float>(), 1e-6);
            }
        }
        EXPECT_GT(masked, 10) << items;
    }
}

// Two classes of sound, a low and a high tone, in every format and at rates
// other than the block's, some shorter and some longer than the duration.
class AudioRun : public ::testing::Test {
protected:
    void SetUp() override {
        const int formats[] = {SF_FORMAT_WAV | SF_FORMAT_PCM_16, SF_FORMAT_FLAC | SF_FORMAT_PCM_16,
                               SF_FORMAT_OGG | SF_FORMAT_VORBIS};
        const char* exts[] = {".wav", ".flac", ".ogg"};
        torch::manual_seed(3);
        for (int i = 0; i < 24; ++i)
            for (auto [label, hz] : {std::pair{"low", 300.0}, std::pair{"high", 2500.0}}) {
                int rate = i % 2 ? 22050 : 16000;
                double seconds = i % 3 == 0 ? 0.4 : i % 3 == 1 ? 1.0 : 1.7;
                fs::create_directories(dir_ / "sounds" / label);
                writeSound(dir_ / "sounds" / label / (std::to_string(i) + exts[i % 3]),
                           tone(hz, seconds, rate, 1 + i % 2, uint64_t(i)), rate, formats[i % 3]);
            }
    }
    std::string pipeText(const std::string& items, const std::string& backbone, const std::string& extra = "") {
        return "seed 1\n"
               "data d {\n"
               "    source = folder(\"sounds\", extensions = [\".wav\", \".flac\", \".ogg\"])\n"
               "    blocks = (audio(sample_rate = 8000, duration = 0.5" +
               extra +
               "), category)\n"
               "    label = parent_label\n"
               "    split = stratified(valid = 0.25, seed = 1)\n"
               "    item = " +
               items +
               "\n"
               "    batch = [normalize()]\n"
               "    batch_size = 8\n"
               "}\n"
               "model m { backbone = " +
               backbone +
               " }\n"
               "train t { optimizer = adam(lr = 1e-2)  schedule = one_cycle(epochs = 10)  metrics = [accuracy] }\n";
    }
    TempDir dir_{"pipe-audio-run"};
};

TEST_F(AudioRun, MelSpectrogramsAreImagesForTheCnnThroughRunShowAndPredict) {
    const std::string items =
        "[mel_spectrogram(n_fft = 256, hop_length = 128, n_mels = 32), amplitude_to_db(top_db = 80), "
        "time_mask(max = 4), freq_mask(max = 4)]";
    // Prepared: 36 training items of {1, 32, 32} (4000 samples, 128 apart), mono.
    auto data = prepare(dir_.path(), pipeText(items, "cnn(channels = [16, 32])"));
    ASSERT_NE(data, nullptr);
    EXPECT_EQ(data->info().input, "image");
    EXPECT_EQ(data->info().itemShape, (std::vector<int64_t>{1, 32, 32}));
    EXPECT_EQ(data->size(Split::Train), 36);
    EXPECT_EQ(data->size(Split::Valid), 12);
    auto batches = epoch(*data, Split::Valid, 8, 2);
    ASSERT_EQ(batches.size(), 2u);
    EXPECT_EQ(batches[0].x.sizes(), (std::vector<int64_t>{8, 1, 32, 32}));
    // Validation is fixed; training draws its crops and masks from (seed, epoch, item).
    auto again = epoch(*data, Split::Valid, 8, 1);
    EXPECT_TRUE(torch::equal(batches[0].x, again[0].x));
    auto train0 = epoch(*data, Split::Train, 8, 2, 0), train0again = epoch(*data, Split::Train, 8, 1, 0);
    EXPECT_TRUE(torch::equal(train0[0].x, train0again[0].x));

    fs::path file = writeText(dir_ / "tones.pipe", pipeText(items, "cnn(channels = [16, 32])"));
    TrainedRun run = trainRun(file, dir_ / "runs");
    ASSERT_EQ(run.result.status, 0) << run.result.output;
    // The tones are easy: the last epoch's validation accuracy is 1.
    std::istringstream lines(run.result.output);
    std::string line, last;
    while (std::getline(lines, line))
        if (line.rfind("9 ", 0) == 0) last = line;
    EXPECT_NE(last.find("1.000000"), std::string::npos) << run.result.output;

    // pipe show: spectrogram pictures (n_mels rows, a column per frame) with their labels.
    CommandResult shown = runPipeCommand("show " + file.string() + " --out " + (dir_ / "shown").string() + " --n 4");
    ASSERT_EQ(shown.status, 0) << shown.output;
    EXPECT_TRUE(fs::exists(dir_ / "shown" / "batch.png"));
    EXPECT_TRUE(fs::exists(dir_ / "shown" / "tiles" / "000.png"));
    std::string csv = readFile(dir_ / "shown" / "batch.csv");
    EXPECT_TRUE(csv.find(",low") != std::string::npos || csv.find(",high") != std::string::npos) << csv;

    // pipe predict: sound files in (FLAC and float WAV, resampled), classes out.
    fs::path low = dir_ / "low.flac", high = dir_ / "high.wav";
    writeSound(low, tone(300, 1.0, 22050, 2, 77), 22050, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
    writeSound(high, tone(2500, 1.0, 16000, 1, 78), 16000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    CommandResult p = runPipeCommand("predict " + run.dir.string() + " " + low.string() + " " + high.string());
    ASSERT_EQ(p.status, 0) << p.output;
    EXPECT_NE(p.output.find(low.string() + ": low"), std::string::npos) << p.output;
    EXPECT_NE(p.output.find(high.string() + ": high"), std::string::npos) << p.output << run.result.output;
    // A file that is not sound: one error naming it.
    fs::path text = writeText(dir_ / "notes.wav", "not sound at all\n");
    CommandResult bad = runPipeCommand("predict " + run.dir.string() + " " + text.string());
    EXPECT_EQ(bad.status, 1) << bad.output;
    EXPECT_NE(bad.output.find(text.string()), std::string::npos) << bad.output;
    EXPECT_EQ(bad.output.find("terminate"), std::string::npos) << bad.output;
}

TEST_F(AudioRun, WaveformsTrainTheOneDimensionalCnn) {
    fs::path file =
        writeText(dir_ / "waves.pipe", pipeText("[]", "cnn1d(channels = [16, 16, 32], first_kernel = 40, stride = 8)"));
    auto data = prepare(dir_.path(), readFile(file));
    ASSERT_NE(data, nullptr);
    EXPECT_EQ(data->info().input, "audio");
    EXPECT_EQ(data->info().itemShape, (std::vector<int64_t>{1, 4000}));
    TrainedRun run = trainRun(file, dir_ / "runs");
    ASSERT_EQ(run.result.status, 0) << run.result.output;
    EXPECT_NE(run.result.output.find("cnn1d"), std::string::npos) << run.result.output;
}

TEST_F(AudioRun, AllChannelsKeepsStereoAndRefusesAMonoFile) {
    // `channels = "all"`: the first training file decides; a file with another count is named.
    std::string error = errorOf([&] {
        auto data = prepare(dir_.path(), pipeText("[]", "cnn1d()", ", channels = \"all\""));
        ASSERT_NE(data, nullptr);
        epoch(*data, Split::Train, 8, 0);
        epoch(*data, Split::Valid, 8, 0);
    });
    EXPECT_NE(error.find("channels, but the first training file has"), std::string::npos) << error;
    EXPECT_NE(error.find("channels = \"mono\""), std::string::npos) << error;
}

TEST_F(AudioRun, OnBadSkipLeavesOutAndNamesBadFilesAndFailStopsAtTheFirst) {
    fs::path cut = dir_ / "sounds" / "low" / "cut.wav";
    {
        std::string whole = readFile(dir_ / "sounds" / "low" / "0.wav");
        std::ofstream(cut, std::ios::binary) << whole.substr(0, 600);
    }
    writeText(dir_ / "sounds" / "high" / "text.ogg", "this is not sound\n");
    const std::string items = "[mel_spectrogram(n_fft = 256, n_mels = 32)]";
    auto data = prepare(dir_.path(), pipeText(items, "cnn()", ", on_bad = \"skip\""));
    ASSERT_NE(data, nullptr);
    EXPECT_EQ(data->size(Split::Train) + data->size(Split::Valid), 48);

    std::string error = errorOf([&] {
        auto failing = prepare(dir_.path(), pipeText(items, "cnn()"));
        ASSERT_NE(failing, nullptr);
        epoch(*failing, Split::Train, 8, 0);
        epoch(*failing, Split::Valid, 8, 0);
    });
    EXPECT_TRUE(error.find(cut.string()) != std::string::npos ||
                error.find((dir_ / "sounds" / "high" / "text.ogg").string()) != std::string::npos)
        << error;
}
