/**
 * Per-op table rows of the convolution family (issue 18): conv in 1–3 spatial dimensions with
 * strides, padding rules, dilation, groups and both layouts; convTranspose; the pools. Checked at
 * orders 1 and 2 (conv is bilinear, so its second derivatives are the interesting ones; the pools
 * are piecewise linear or linear). Max-pool inputs are distinct, so no window ties and finite
 * differences stay away from the kinks.
 */
import * as ir from "@chainrule/ir";
import { anyReal, distinct, type OpRow } from "../optable.js";

function convs(): OpRow[] {
  return [
    {
      name: "conv1d(x, w, stride 2, padding same, dilation 2)",
      primitive: false,
      fn: (x, w) => ir.conv1d(x!, w!, { stride: 2, padding: "same", dilation: 2 }),
      domain: [anyReal, anyReal],
      shapes: [
        [
          [2, 2, 7],
          [3, 2, 2],
        ],
      ],
    },
    {
      name: "conv2d(x, w, padding 1, groups 2)",
      primitive: true,
      fn: (x, w) => ir.conv2d(x!, w!, { padding: 1, groups: 2 }),
      domain: [anyReal, anyReal],
      shapes: [
        [
          [1, 4, 3, 3],
          [2, 2, 2, 2],
        ],
      ],
    },
    {
      name: "conv2d(x, w, stride [2, 1], padding [[0, 1], 2], dilation [1, 2])",
      primitive: true,
      fn: (x, w) => ir.conv2d(x!, w!, { stride: [2, 1], padding: [[0, 1], 2], dilation: [1, 2] }),
      domain: [anyReal, anyReal],
      shapes: [
        [
          [2, 1, 4, 3],
          [2, 1, 2, 2],
        ],
      ],
    },
    {
      name: "conv2d(x, w, channelsLast, depthwise groups = C)",
      primitive: false,
      fn: (x, w) => ir.conv2d(x!, w!, { layout: "channelsLast", groups: 2, padding: "same" }),
      domain: [anyReal, anyReal],
      shapes: [
        [
          [1, 3, 3, 2],
          [2, 2, 1, 4],
        ],
      ],
    },
    {
      name: "conv3d(x, w, stride 2, padding 1)",
      primitive: true,
      fn: (x, w) => ir.conv3d(x!, w!, { stride: 2, padding: 1 }),
      domain: [anyReal, anyReal],
      shapes: [
        [
          [1, 1, 3, 2, 3],
          [2, 1, 2, 2, 2],
        ],
      ],
    },
    {
      name: "convTranspose(y, w, stride 2, padding 1, outputPadding 1, groups 2)",
      primitive: false,
      fn: (y, w) => ir.convTranspose(y!, w!, { stride: 2, padding: 1, outputPadding: 1, groups: 2 }),
      domain: [anyReal, anyReal],
      shapes: [
        [
          [1, 2, 3, 2],
          [2, 1, 3, 2],
        ],
      ],
    },
  ];
}

function pools(): OpRow[] {
  return [
    {
      name: "maxPool(x, 2, stride 1, padding [[0, 1], 1]) (overlapping, padded windows)",
      primitive: true,
      fn: (x) => ir.maxPool(x!, 2, { stride: 1, padding: [[0, 1], 1] }),
      domain: [distinct],
      shapes: [[[1, 2, 3, 3]], [[2, 1, 2, 4]]],
    },
    {
      name: "maxPool(x, 3, stride 2) (1-d)",
      primitive: true,
      fn: (x) => ir.maxPool(x!, 3, { stride: 2 }),
      domain: [distinct],
      shapes: [[[2, 2, 7]]],
    },
    {
      name: "avgPool(x, [2, 3], padding 1)",
      primitive: false,
      fn: (x) => ir.avgPool(x!, [2, 3], { padding: 1 }),
      domain: [anyReal],
      shapes: [[[1, 2, 3, 4]]],
    },
    {
      name: "avgPool(x, 2, stride 1, padding 1, countIncludePad false)",
      primitive: false,
      fn: (x) => ir.avgPool(x!, 2, { stride: 1, padding: 1, countIncludePad: false }),
      domain: [anyReal],
      shapes: [[[1, 1, 3, 3]], [[2, 2, 2, 3]]],
    },
    {
      name: "adaptiveAvgPool(x, [3, 2]) (overlapping bins)",
      primitive: false,
      fn: (x) => ir.adaptiveAvgPool(x!, [3, 2]),
      domain: [anyReal],
      shapes: [[[1, 2, 5, 4]]],
    },
  ];
}

export function convRows(): OpRow[] {
  return [...convs(), ...pools()];
}
