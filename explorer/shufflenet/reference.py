"""The paper's reference networks, defined here (no torchvision): AlexNet and MobileNet v1.

**AlexNet** is Krizhevsky et al.'s original network with its two-group conv2/4/5 (the
Caffe ``bvlc_alexnet`` layout, LRN left out: it has no multiply-adds and modern
implementations drop it): 724M multiply-adds at 224x224, the paper's "720M". Table 8's
AlexNet times grow with the pixel count, so it is run *fully convolutionally*: fc6 is
a 6x6 convolution and fc7/fc8 are 1x1 convolutions over the last feature map, whose
class scores are then averaged. At 224x224 that is exactly the classic network; at
480x640 it is the classifier slid over the image. Every layer is a convolution, so the
paper convention (conv multiply-adds) and "with FC" are the same number for it.

**MobileNet v1** (Howard et al., 2017, Table 1 of that paper), width multiplier alpha
on every layer: 569M multiply-adds at 1.0 (FC included), as in the paper's Table 5.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import AlexNetConfig, MobileNetConfig


class AlexNet(nn.Module):
    def __init__(self, config: AlexNetConfig) -> None:
        super().__init__()
        self.config = config
        relu = lambda: nn.ReLU(inplace=True)  # noqa: E731
        pool = lambda: nn.MaxPool2d(3, stride=2)  # noqa: E731
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, 11, stride=4, padding=2),
            relu(),
            pool(),
            nn.Conv2d(96, 256, 5, padding=2, groups=2),
            relu(),
            pool(),
            nn.Conv2d(256, 384, 3, padding=1),
            relu(),
            nn.Conv2d(384, 384, 3, padding=1, groups=2),
            relu(),
            nn.Conv2d(384, 256, 3, padding=1, groups=2),
            relu(),
            pool(),
        )
        self.classifier = nn.Sequential(
            nn.Conv2d(256, 4096, 6),
            relu(),
            nn.Conv2d(4096, 4096, 1),
            relu(),
            nn.Conv2d(4096, config.num_classes, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores = self.classifier(self.features(x))
        return scores.mean(dim=(2, 3))


MOBILENET_LAYERS = (
    ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)) + ((512, 1),) * 5 + ((1024, 2), (1024, 1))
)


def _separable(in_ch: int, out_ch: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_ch, in_ch, 3, stride, 1, groups=in_ch, bias=False),
        nn.BatchNorm2d(in_ch),
        nn.ReLU(inplace=True),
        nn.Conv2d(in_ch, out_ch, 1, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
    )


class MobileNetV1(nn.Module):
    def __init__(self, config: MobileNetConfig) -> None:
        super().__init__()
        self.config = config
        scale = lambda c: max(8, int(c * config.width))  # noqa: E731
        layers: list[nn.Module] = [
            nn.Sequential(
                nn.Conv2d(3, scale(32), 3, 2, 1, bias=False), nn.BatchNorm2d(scale(32)), nn.ReLU(inplace=True)
            )
        ]
        channels = scale(32)
        for out, stride in MOBILENET_LAYERS:
            layers.append(_separable(channels, scale(out), stride))
            channels = scale(out)
        self.features = nn.Sequential(*layers)
        self.globalpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, config.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.globalpool(self.features(x)), 1))
