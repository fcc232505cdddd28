"""`moodshift evolve`: synthesise images a classifier takes for an emotion (MAP-Elites, pyribs).

After Nguyen, Yosinski & Clune (2015), "Innovation engines": a quality-diversity search keeps the
best image found for every cell of an archive (one cell per emotion, or a grid over the
valence-arousal plane), so the result shows what a model has learnt each emotion looks like.
"""
