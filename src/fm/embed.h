/*
 * embed.h - code embeddings for novelty.
 *
 * The built-in embedding is deterministic and offline: the C source is
 * tokenised with comments and white space dropped and every number folded
 * into one token (so formatting and parameter tweaks do not look novel, while
 * a different structure does); unigrams, bigrams and trigrams of tokens are
 * hashed with a sign into EMBED_DIM buckets; the vector is L2-normalised.
 * Similar code gives nearby vectors under cosine distance.
 */
#ifndef FMSP_EMBED_H
#define FMSP_EMBED_H

#define EMBED_DIM 256

/* Writes the embedding of source into out[dim]. */
void embed_builtin(const char *source, float *out, int dim);

#endif
