// Video: the `video` block (clips read with FFmpeg's libraries, a few frames
// taken from each) and `frames`, the backbone that runs an image backbone on
// every frame and pools over time. A clip's frames go through the image item
// transforms, so video needs no transforms of its own.
#include "stdlib/registry.h"

namespace pipelang::stdlib {

namespace {

std::vector<LayerGroup> framesGroups(const SizeOf&) {
    // The image backbone's groups come first (interpreter/layer_groups.cpp
    // adds them under `backbone.`); the pooling over time is one more.
    return {{"pool", {"pool.*"}}};
}

}  // namespace

void addVideo(Registry& r) {
    r.add({.name = "video",
           .family = Family::Block,
           .doc = "Video files (MP4, WebM, MKV, AVI, ...; decoded by FFmpeg's libraries) as a few frames per clip, "
                  "{frames, channels, height, width}, values in [0, 1]; each frame goes through the image item "
                  "transforms, drawn once per clip.",
           .params =
               {
                   {"frames", "int", "8", "frames per item", {}, 1, 1024},
                   {"fps",
                    "float",
                    "none",
                    "take the frames this many per second, from a random start in training and the middle of the "
                    "clip otherwise (past its end the last frame repeats); by default they are spread evenly from the "
                    "first frame to the last",
                    {},
                    0.001,
                    1000},
                   {"channels", "int", "3", "1 for greyscale, 3 for colour; frames are converted to it", {"1", "3"}},
                   {"size", "int|list<int>", "none",
                    "scale frames to this size as they are decoded (a side, or [height, width]); by default the "
                    "clip's own"},
                   {"on_bad",
                    "string",
                    "\"fail\"",
                    "an unreadable video file: `fail` stops with its name; `skip` reads every file once before "
                    "training and leaves out, counts and names the bad ones",
                    {"fail", "skip"}},
               },
           .produces = "video",
           .canBeInput = true});

    r.add({.name = "frames",
           .family = Family::Backbone,
           .doc = "A video backbone: an image backbone run on every frame, its features averaged over each frame, "
                  "then pooled over time.",
           .params =
               {
                   {"backbone", "backbone", "", "the image backbone run on every frame, e.g. `resnet(depth = 18)`"},
                   {"pool",
                    "string",
                    "\"mean\"",
                    "how the frames' features become one: their `mean` or `max`, the last step of an `lstm` over "
                    "them, or `attention` (a learned score per frame, its place in time included, softmax over time)",
                    {"mean", "max", "lstm", "attention"}},
               },
           .accepts = {"video"},
           .produces = "image",
           .layerGroups = framesGroups,
           .groupsDoc = "the image backbone's groups (`backbone.` before their parameters' names), then `pool`"});
}

}  // namespace pipelang::stdlib
