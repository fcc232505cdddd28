"""The conditional GAN's two networks (DCGAN-style, sized for CPU training on 48x48 grey faces).

Condition vector c = [emotion one-hot (7) | age-group one-hot (5) | gender one-hot (2)]; an
all-zero age or gender block means "unspecified" (training drops those blocks at random so the
generator learns that input too).

Generator (seed 003: input = noise concatenated with the condition): [z | c] -> linear ->
256x6x6 -> three (nearest 2x upsample, 3x3 conv, batch norm, ReLU) stages to 32x48x48 -> 3x3 conv
-> tanh, one grey channel. Upsample+conv instead of transposed convolutions avoids checkerboard
artefacts, which are very visible once a 48 px face is enlarged to 256 px.

Discriminator (AC-GAN, Odena et al. 2017): four stride-2 4x4 convolutions with spectral norm and
LeakyReLU (48 -> 3 px) give a feature vector; heads score realism (hinge loss) and classify
emotion, age group and gender. The auxiliary emotion head is what makes the generated expression
readable: the generator is rewarded when its faces are classified as the requested emotion.
The features also feed the feature-matching term (Salimans et al. 2016).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import spectral_norm

from moodshift.emotions import EMOTIONS
from moodshift.people import AGE_GROUPS, GENDERS

N_EMOTION, N_AGE, N_GENDER = len(EMOTIONS), len(AGE_GROUPS), len(GENDERS)
COND_DIM = N_EMOTION + N_AGE + N_GENDER


def condition_vector(emotion: torch.Tensor, age: torch.Tensor,
                     gender: torch.Tensor) -> torch.Tensor:
    """(n, COND_DIM) one-hots; an index of -1 leaves that block zero ("unspecified")."""
    n = emotion.shape[0]
    out = torch.zeros(n, COND_DIM)
    rows = torch.arange(n)
    for offset, idx in ((0, emotion), (N_EMOTION, age), (N_EMOTION + N_AGE, gender)):
        known = idx >= 0
        out[rows[known], offset + idx[known]] = 1.0
    return out


class Generator(nn.Module):
    def __init__(self, latent_dim: int = 64, width: int = 32, image_size: int = 48) -> None:
        super().__init__()
        if image_size % 8:
            raise ValueError("image_size must be a multiple of 8")
        self.latent_dim, self.width, self.image_size = latent_dim, width, image_size
        self.base = image_size // 8
        c0 = 8 * width
        self.fc = nn.Sequential(nn.Linear(latent_dim + COND_DIM, c0 * self.base ** 2),
                                nn.BatchNorm1d(c0 * self.base ** 2), nn.ReLU(inplace=True))
        stages: list[nn.Module] = []
        for cin, cout in ((c0, 4 * width), (4 * width, 2 * width), (2 * width, width)):
            stages += [nn.Upsample(scale_factor=2, mode="nearest"),
                       nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                       nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
        self.body = nn.Sequential(*stages)
        self.out = nn.Conv2d(width, 1, 3, padding=1)

    def forward(self, z: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x = self.fc(torch.cat([z, cond], dim=1))
        x = x.view(-1, 8 * self.width, self.base, self.base)
        return torch.tanh(self.out(self.body(x)))


class Discriminator(nn.Module):
    def __init__(self, width: int = 32, image_size: int = 48) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 1
        for cout in (width, 2 * width, 4 * width, 8 * width):
            layers += [spectral_norm(nn.Conv2d(cin, cout, 4, stride=2, padding=1)),
                       nn.LeakyReLU(0.2, inplace=True)]
            cin = cout
        self.body = nn.Sequential(*layers)
        feat = 8 * width * (image_size // 16) ** 2
        self.adv = spectral_norm(nn.Linear(feat, 1))
        self.emotion = nn.Linear(feat, N_EMOTION)
        self.age = nn.Linear(feat, N_AGE)
        self.gender = nn.Linear(feat, N_GENDER)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        f = self.body(x).flatten(1)
        return {"features": f, "adv": self.adv(f).squeeze(1), "emotion": self.emotion(f),
                "age": self.age(f), "gender": self.gender(f)}
