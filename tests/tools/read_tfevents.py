#!/usr/bin/env python3
"""Reads a TensorBoard event file independently of pipe's writer (record/tensorboard.cpp).

Prints one JSON object: {"file_version": ..., "scalars": [{"tag", "step", "value", "wall_time"}],
"protobuf": true|false}, each value as Python's repr of the float ("0.5", "nan"). Uses only Python's standard library: it checks the record framing
(uint64 length, masked CRC32C of the length, data, masked CRC32C of the data) and parses the
protobuf wire format generically. When the `google.protobuf` package is importable (Debian's
python3-protobuf), every event is parsed a second time by the real protobuf library, from the
Event/Summary messages declared here with their field numbers from TensorFlow's event.proto and
summary.proto, and the two readings must agree ("protobuf": true).

Exits 1 with a message on stderr at the first thing that is wrong.
"""
import json
import struct
import sys


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def fail(message):
    sys.stderr.write("read_tfevents: " + message + "\n")
    sys.exit(1)


def records(blob):
    at = 0
    while at < len(blob):
        if len(blob) - at < 12:
            fail("truncated record header at byte %d" % at)
        header = blob[at:at + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", blob[at + 8:at + 12])
        if masked(header) != length_crc:
            fail("bad length CRC at byte %d" % at)
        data = blob[at + 12:at + 12 + length]
        if len(data) != length or len(blob) < at + 16 + length:
            fail("truncated record at byte %d" % at)
        (data_crc,) = struct.unpack("<I", blob[at + 12 + length:at + 16 + length])
        if masked(data) != data_crc:
            fail("bad data CRC at byte %d" % at)
        yield data
        at += 16 + length


def varint(data, at):
    value, shift = 0, 0
    while True:
        if at >= len(data):
            fail("truncated varint")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def fields(data):
    """A message's fields as (number, wire type, raw value) in order."""
    out, at = [], 0
    while at < len(data):
        key, at = varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = varint(data, at)
        elif wire == 1:
            value, at = data[at:at + 8], at + 8
        elif wire == 2:
            length, at = varint(data, at)
            value, at = data[at:at + length], at + length
        elif wire == 5:
            value, at = data[at:at + 4], at + 4
        else:
            fail("unexpected wire type %d" % wire)
        if at > len(data):
            fail("field %d runs past the end of its message" % number)
        out.append((number, wire, value))
    return out


def signed64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def decode_event(data):
    """tensorflow.Event: wall_time = 1 (double), step = 2 (int64), file_version = 3, summary = 5."""
    event = {"wall_time": None, "step": 0, "file_version": None, "values": []}
    for number, wire, value in fields(data):
        if number == 1 and wire == 1:
            event["wall_time"] = struct.unpack("<d", value)[0]
        elif number == 2 and wire == 0:
            event["step"] = signed64(value)
        elif number == 3 and wire == 2:
            event["file_version"] = value.decode("utf-8")
        elif number == 5 and wire == 2:
            for n, w, v in fields(value):  # Summary: repeated Value value = 1
                if n != 1 or w != 2:
                    fail("unexpected field %d in Summary" % n)
                tag, simple = None, None
                for n2, w2, v2 in fields(v):  # Value: tag = 1, simple_value = 2 (float)
                    if n2 == 1 and w2 == 2:
                        tag = v2.decode("utf-8")
                    elif n2 == 2 and w2 == 5:
                        simple = struct.unpack("<f", v2)[0]
                    else:
                        fail("unexpected field %d in Summary.Value" % n2)
                event["values"].append((tag, simple))
        else:
            fail("unexpected field %d (wire type %d) in Event" % (number, wire))
    return event


def protobuf_event_class():
    """The Event message built with the real protobuf library, or None without it."""
    try:
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    except ImportError:
        return None
    F = descriptor_pb2.FieldDescriptorProto
    f = descriptor_pb2.FileDescriptorProto(name="pipe_test_event.proto", package="tensorflow")

    def message(name, specs):
        m = f.message_type.add(name=name)
        for field_name, number, kind, label, type_name in specs:
            field = m.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                field.type_name = type_name

    one, many = F.LABEL_OPTIONAL, F.LABEL_REPEATED
    message("SummaryValue", [("tag", 1, F.TYPE_STRING, one, None), ("simple_value", 2, F.TYPE_FLOAT, one, None)])
    message("Summary", [("value", 1, F.TYPE_MESSAGE, many, ".tensorflow.SummaryValue")])
    message("Event", [("wall_time", 1, F.TYPE_DOUBLE, one, None), ("step", 2, F.TYPE_INT64, one, None),
                      ("file_version", 3, F.TYPE_STRING, one, None),
                      ("summary", 5, F.TYPE_MESSAGE, one, ".tensorflow.Summary")])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    descriptor = pool.FindMessageTypeByName("tensorflow.Event")
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


def check_with_protobuf(Event, data, mine):
    e = Event()
    e.ParseFromString(data)
    theirs = {"wall_time": e.wall_time, "step": e.step, "file_version": e.file_version or None,
              "values": [(v.tag, v.simple_value) for v in e.summary.value]}
    if mine["wall_time"] is None:
        mine = dict(mine, wall_time=0.0)
    if repr(theirs) != repr(mine):  # repr, where nan equals nan
        fail("the protobuf library reads %r where the wire-format reader reads %r" % (theirs, mine))


def main():
    if len(sys.argv) != 2:
        fail("usage: read_tfevents.py FILE")
    with open(sys.argv[1], "rb") as f:
        blob = f.read()
    Event = protobuf_event_class()
    out = {"file_version": None, "scalars": [], "protobuf": Event is not None}
    for i, data in enumerate(records(blob)):
        event = decode_event(data)
        if Event is not None:
            check_with_protobuf(Event, data, event)
        if i == 0:
            if event["file_version"] is None:
                fail("the first event carries no file_version")
            out["file_version"] = event["file_version"]
        for tag, value in event["values"]:
            # repr keeps every bit of the float and writes nan and inf as JSON cannot
            out["scalars"].append({"tag": tag, "step": event["step"], "value": repr(value),
                                   "wall_time": event["wall_time"]})
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
