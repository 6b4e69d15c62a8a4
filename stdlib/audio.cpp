// Sound: the `audio` block, the transforms that turn a waveform into a
// spectrogram (as torchaudio 0.13 computes them, defaults included), SpecAugment's
// masks, and a 1-D convolutional backbone for waveforms. A spectrogram is an
// image to the backbones: the transforms that make one say so (`produces`).
#include "stdlib/registry.h"

namespace pipelang::stdlib {

namespace {

// The short-time Fourier transform's settings, shared by the three
// transforms that start with one (torchaudio's defaults).
std::vector<Param> stftParams() {
    return {
        {"n_fft", "int", "400", "the size of each FFT: n_fft / 2 + 1 frequency bins", {}, 2, {}},
        {"win_length", "int", "none", "the Hann window's length (at most n_fft); by default n_fft", {}, 1, {}},
        {"hop_length", "int", "none", "samples between the starts of two frames; by default win_length / 2", {}, 1, {}},
        {"center", "bool", "true", "pad the waveform by reflection so that frame t is centred at t × hop_length"},
    };
}

std::vector<Param> melParams(int64_t nMels) {
    return {
        {"n_mels", "int", std::to_string(nMels), "the number of mel bands", {}, 1, {}},
        {"f_min", "float", "0.0", "the lowest frequency of the bands, in Hz", {}, 0, {}},
        {"f_max",
         "float",
         "none",
         "the highest frequency of the bands, in Hz; by default half the sample rate",
         {},
         0,
         {}},
        {"norm",
         "string",
         "none",
         "`slaney` divides each triangular band by its width (area normalisation); by default none",
         {"slaney"}},
        {"mel_scale", "string", "\"htk\"", "the mel scale's formula", {"htk", "slaney"}},
    };
}

std::vector<Param> joined(std::vector<Param> a, const std::vector<Param>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::vector<LayerGroup> cnn1dGroups(const SizeOf& size) {
    std::vector<LayerGroup> groups;
    for (int64_t i = 0; i < size("channels"); ++i)
        groups.push_back({"features." + std::to_string(i), {"features." + std::to_string(i) + ".*"}});
    return groups;
}

}  // namespace

void addAudio(Registry& r) {
    r.add({.name = "audio",
           .family = Family::Block,
           .doc = "Sound files (WAV, FLAC, Ogg Vorbis; read by libsndfile) as waveforms at one sample rate and "
                  "length: {channels, samples}, values in [-1, 1].",
           .params =
               {
                   {"sample_rate",
                    "int",
                    "16000",
                    "samples per second; other rates are resampled (soxr, high quality)",
                    {},
                    1000,
                    384000},
                   {"channels",
                    "string",
                    "\"mono\"",
                    "`mono` averages the channels into one; `all` keeps them (every file must then have as many)",
                    {"mono", "all"}},
                   {"duration",
                    "float",
                    "1.0",
                    "seconds per item: longer clips are cut (at a random place in training, the middle otherwise), "
                    "shorter ones padded with silence at the end",
                    {},
                    0.001,
                    3600},
                   {"on_bad",
                    "string",
                    "\"fail\"",
                    "an unreadable sound file: `fail` stops with its name; `skip` reads every file once before "
                    "training and leaves out, counts and names the bad ones",
                    {"fail", "skip"}},
               },
           .produces = "audio",
           .canBeInput = true});

    r.add({.name = "spectrogram",
           .family = Family::Item,
           .doc = "A waveform's power spectrogram, {channels, n_fft / 2 + 1, frames}, as torchaudio's Spectrogram; "
                  "an image to the backbones.",
           .params = joined(stftParams(),
                            {
                                {"power",
                                 "float",
                                 "2.0",
                                 "the exponent of the magnitude: 2 for power, 1 for amplitude",
                                 {},
                                 0.001,
                                 {}},
                                {"normalized", "bool", "false", "divide by the window's L2 norm"},
                            }),
           .accepts = {"audio"},
           .produces = "image"});

    r.add({.name = "mel_spectrogram",
           .family = Family::Item,
           .doc = "A waveform's mel spectrogram, {channels, n_mels, frames}, as torchaudio's MelSpectrogram at the "
                  "audio block's sample rate; an image to the backbones.",
           .params = joined(joined(stftParams(), melParams(128)),
                            {
                                {"power",
                                 "float",
                                 "2.0",
                                 "the exponent of the magnitude: 2 for power, 1 for amplitude",
                                 {},
                                 0.001,
                                 {}},
                            }),
           .accepts = {"audio"},
           .produces = "image"});

    r.add({.name = "mfcc",
           .family = Family::Item,
           .doc = "Mel-frequency cepstral coefficients, {channels, n_mfcc, frames}, as torchaudio's MFCC: the DCT "
                  "of the mel spectrogram in decibels (top_db 80).",
           .params = joined(joined({{"n_mfcc", "int", "40", "the coefficients kept (at most n_mels)", {}, 1, {}},
                                    {"log_mels", "bool", "false", "take log(mel + 1e-6) instead of decibels"},
                                    {"dct_norm",
                                     "string",
                                     "\"ortho\"",
                                     "the DCT's normalisation: `ortho`, or `none` (scaled by 2)",
                                     {"ortho", "none"}}},
                                   stftParams()),
                            melParams(128)),
           .accepts = {"audio"},
           .produces = "image"});

    r.add({.name = "amplitude_to_db",
           .family = Family::Item,
           .doc = "A spectrogram in decibels, 10·log10(max(x, 1e-10)) (20· for amplitudes), as torchaudio's "
                  "AmplitudeToDB; put it after `spectrogram` or `mel_spectrogram`.",
           .params =
               {
                   {"stype",
                    "string",
                    "\"power\"",
                    "what the spectrogram holds: `power` (10·log10) or `magnitude` (20·log10)",
                    {"power", "magnitude"}},
                   {"top_db",
                    "float",
                    "none",
                    "the lowest value kept, this many decibels below the item's loudest; by default no floor",
                    {},
                    0,
                    {}},
               },
           .accepts = {"audio"}});

    r.add({.name = "time_mask",
           .family = Family::Item,
           .doc = "SpecAugment's time masking: hides a random run of frames of training spectrograms (torchaudio's "
                  "TimeMasking), filling it with the item's mean.",
           .params =
               {
                   {"max", "int", "", "the longest run of frames hidden; its length is drawn from [0, max)", {}, 1, {}},
                   {"p", "float", "1.0", "the largest share of the frames one mask may hide", {}, 0, 1},
                   {"count", "int", "1", "masks per item", {}, 1, 32},
               },
           .accepts = {"audio"}});

    r.add({.name = "freq_mask",
           .family = Family::Item,
           .doc = "SpecAugment's frequency masking: hides a random band of rows of training spectrograms "
                  "(torchaudio's FrequencyMasking), filling it with the item's mean.",
           .params =
               {
                   {"max", "int", "", "the widest band hidden; its width is drawn from [0, max)", {}, 1, {}},
                   {"count", "int", "1", "masks per item", {}, 1, 32},
               },
           .accepts = {"audio"}});

    r.add({.name = "cnn1d",
           .family = Family::Backbone,
           .doc = "A 1-D convolutional net for waveforms: a strided first convolution, then one stage per entry of "
                  "`channels`, each a convolution, batch norm, ReLU and a pooling by 4 (as M5, Dai et al. 2017).",
           .params =
               {
                   {"channels", "list<int>", "[32, 32, 64, 64]", "the number of filters of each stage", {}, 1, {}},
                   {"first_kernel", "int", "80", "the first convolution's width, in samples", {}, 1, {}},
                   {"stride", "int", "16", "the first convolution's stride, in samples", {}, 1, {}},
                   {"kernel", "int", "3", "the width of the other convolutions", {}, 1, {}},
                   {"dropout", "float", "0.0", "the share of activations zeroed during training", {}, 0, 1},
               },
           .accepts = {"audio"},
           .layerGroups = cnn1dGroups,
           .groupsDoc = "one per stage, from the input: `features.0` (with the first convolution), `features.1`, ..."});
}

}  // namespace pipelang::stdlib
