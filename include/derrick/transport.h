/*
 * transport.h - where images come from and go to.
 *
 * Every transport (the OCI layout, src/transport/layout.c; a registry,
 * src/transport/registry.c; the archives, oci_archive.c and
 * docker_archive.c) is a row of the table in
 * src/transport/transport.c: its name, what it
 * can do, and its constructors.  Its sources and destinations implement the
 * same two small interfaces, reached through the wrappers below, so the
 * build and copy code never asks which one it is talking to.  Blobs travel
 * as local files: a layer built by derrick sits in the staging store, a base
 * layer in its layout (or in the download cache).
 */
#ifndef DERRICK_TRANSPORT_H
#define DERRICK_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "derrick/digest.h"
#include "derrick/err.h"
#include "derrick/ref.h"
#include "derrick/registry.h"

#define DK_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define DK_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define DK_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define DK_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define DK_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

/* Manifests and indexes larger than this are refused (registries cap at 4 MiB). */
#define DK_MANIFEST_MAX (4u << 20)
/* Image configs are JSON too, but can carry long histories. */
#define DK_CONFIG_MAX (16u << 20)

struct dk_desc {
	char media_type[128];
	char digest[DK_DIGEST_SIZE];
	uint64_t size;
};

/* A manifest as read: its bytes exactly as stored (never re-serialised). */
struct dk_manifest_blob {
	struct dk_desc desc;
	char *bytes;
	size_t len;
};

/* What every transport may need from the command line. */
struct dk_transport_opts {
	struct dk_reg_opts reg;         /* credentials, TLS, retries */
	const char *cache_dir;          /* blob cache; NULL: $XDG_CACHE_HOME/derrick */
	uint64_t chunk_size;            /* uploads larger than this go in chunks; 0: 4 MiB */
	int jobs;                       /* blobs transferred at once; 0: 4 */
	int jobs_set;                   /* --jobs was given */
	int progress;                   /* 0 none, 1 a line per finished blob, 2 live lines */
};

/* What a destination did with each blob, for --json and the progress lines. */
struct dk_blob_note {
	char digest[DK_DIGEST_SIZE];
	const char *action;             /* "existed", "mounted", "uploaded", "written" */
	uint64_t size;                  /* the blob's size */
	uint64_t sent;                  /* bytes sent for it */
};

/*
 * What a transport's sources and destinations implement.  Only transport.c
 * calls these: everyone else goes through the dk_image_src_* and
 * dk_image_dst_* wrappers below.
 */
struct dk_image_src;
struct dk_image_src_ops {
	/*
	 * The manifest the reference names; an index is resolved to `want`,
	 * or, with `want` NULL, returned as it is (its bytes as stored).
	 */
	int (*get_manifest)(struct dk_image_src *s, const struct dk_platform *want,
			    struct dk_manifest_blob *out, struct dk_err *err);
	/* A small blob's bytes (a config), checked against d. */
	int (*read_blob)(struct dk_image_src *s, const struct dk_desc *d, size_t max,
			 char **buf, size_t *len, struct dk_err *err);
	/* A local file holding the blob, verified against d (a new string). */
	int (*blob_file)(struct dk_image_src *s, const struct dk_desc *d, char **path,
			 struct dk_err *err);
	/* 1 when the source holds the blob, 0 when not, -1 when it cannot tell */
	int (*has_blob)(struct dk_image_src *s, const struct dk_desc *d, struct dk_err *err);
	void (*close)(struct dk_image_src *s);
	/*
	 * A manifest an index names, by its descriptor, checked against it; NULL
	 * when the transport keeps manifests as blobs (read_blob reads them).
	 */
	int (*read_manifest)(struct dk_image_src *s, const struct dk_desc *d, struct dk_manifest_blob *out,
			     struct dk_err *err);
};

struct dk_image_src {
	const struct dk_image_src_ops *ops;
	struct dk_ref ref;
};

struct dk_image_dst;
struct dk_image_dst_ops {
	/*
	 * Get the blob without sending its bytes if possible: 1 when the
	 * destination has it now (it was there, or was mounted from `from`,
	 * an image in another repository of the same registry), 0 when its
	 * bytes are needed, -1 on error.  `from` may be NULL.
	 */
	int (*mount_blob)(struct dk_image_dst *d, const struct dk_desc *desc, const struct dk_ref *from,
			  struct dk_err *err);
	/* Store the blob held in the local file `path` (already verified). */
	int (*put_blob)(struct dk_image_dst *d, const struct dk_desc *desc, const char *path,
			struct dk_err *err);
	/* Store the manifest and name it with the reference's tag. */
	int (*put_manifest)(struct dk_image_dst *d, const struct dk_manifest_blob *m, struct dk_err *err);
	/* Make it visible (index.json, a tag on a registry...). */
	int (*commit)(struct dk_image_dst *d, struct dk_err *err);
	/* Without a commit, undo what this destination added. */
	void (*close)(struct dk_image_dst *d);
	/*
	 * Store a manifest that the index put_manifest stores later names: by
	 * its digest, never tagged (after its blobs, before the index).  NULL
	 * for transports without DK_TRANSPORT_INDEX.
	 */
	int (*put_child)(struct dk_image_dst *d, const struct dk_manifest_blob *m, struct dk_err *err);
};

struct dk_image_dst {
	const struct dk_image_dst_ops *ops;
	struct dk_ref ref;
	struct dk_blob_note *notes;     /* one per blob handled, in order */
	size_t n_notes;
};

/* Record what happened to a blob (thread-safe). */
void dk_image_dst_note(struct dk_image_dst *d, const char *digest, const char *action, uint64_t size,
		 uint64_t sent);
void dk_image_dst_release_notes(struct dk_image_dst *d);

/*
 * Open the image `ref` names for reading, with its transport's
 * constructor: 0 and *out (close it with dk_image_src_close), or -1 with
 * err set (DK_E_NOTFOUND for a missing layout, DK_E_REF when the transport
 * cannot be read, else the transport's own).
 */
int dk_image_src_open(const struct dk_ref *ref, const struct dk_transport_opts *o, struct dk_image_src **out,
		struct dk_err *err);
/*
 * Open `ref` for writing: 0 and *out (close it with dk_image_dst_close),
 * or -1 with err set.  Opening checks the destination can be written (not
 * a file, not some other directory, a readable index.json) but changes
 * nothing on disk.
 */
int dk_image_dst_open(const struct dk_ref *ref, const struct dk_transport_opts *o, struct dk_image_dst **out,
		struct dk_err *err);

/* Both take NULL. */
void dk_image_src_close(struct dk_image_src *s);
void dk_image_dst_close(struct dk_image_dst *d);

/*
 * The manifest s names, an index resolved to the platform `want` (with
 * `want` NULL, the index itself): 0 and *out filled (its bytes as stored,
 * free with dk_manifest_blob_free), or -1.
 */
int dk_image_src_get_manifest(struct dk_image_src *s, const struct dk_platform *want,
			      struct dk_manifest_blob *out, struct dk_err *err);
/*
 * The manifest (or index) an index of s names by descriptor d, checked
 * against d's digest and size limit: 0 and *out (free with
 * dk_manifest_blob_free), or -1.
 */
int dk_image_src_read_manifest(struct dk_image_src *s, const struct dk_desc *d, struct dk_manifest_blob *out,
			       struct dk_err *err);
/*
 * A small blob (a config) read whole and checked against d: 0 and *buf (a
 * new buffer of *len bytes), or -1 (DK_E_CORRUPT when larger than max bytes
 * or not what d says).
 */
int dk_image_src_read_blob(struct dk_image_src *s, const struct dk_desc *d, size_t max, char **buf,
			   size_t *len, struct dk_err *err);
/*
 * A local file holding the blob d, verified: 0 and *path (a new string; the
 * file is the source's or the download cache's, not the caller's), or -1.
 */
int dk_image_src_blob_file(struct dk_image_src *s, const struct dk_desc *d, char **path, struct dk_err *err);
/* 1 when s holds the blob d, 0 when not, -1 (err set) when it cannot tell. */
int dk_image_src_has_blob(struct dk_image_src *s, const struct dk_desc *d, struct dk_err *err);

/* Store the manifest m (after its blobs), to be named by d's tag at commit: 0 or -1. */
int dk_image_dst_put_manifest(struct dk_image_dst *d, const struct dk_manifest_blob *m, struct dk_err *err);
/*
 * Store a manifest (or index) that the index stored later by put_manifest
 * names, untagged, after its blobs: 0, or -1 (DK_E_REF when d's transport
 * holds no indexes).
 */
int dk_image_dst_put_child(struct dk_image_dst *d, const struct dk_manifest_blob *m, struct dk_err *err);
/* Make the image visible (index.json, a tag in a registry): 0 or -1; without it, close undoes. */
int dk_image_dst_commit(struct dk_image_dst *d, struct dk_err *err);

/*
 * Make `d` hold the blob `desc`: nothing when it is there, a mount when
 * possible, else its bytes from `local` (a file) or from `src`.
 */
int dk_transfer_blob(struct dk_image_dst *d, const struct dk_desc *desc, struct dk_image_src *src,
		     const char *local, struct dk_err *err);

/*
 * Transfer n blobs.  Blob i may be mounted from srcs[i] (when that is an
 * image in another repository of the destination's registry), else its
 * bytes come from locals[i] when set, else from srcs[i].  Either array may
 * be NULL.  Up to o->jobs at once when the destination is a registry;
 * stops at the first failure.
 */
int dk_transfer_blobs(struct dk_image_dst *d, const struct dk_desc *descs, const char *const *locals,
		      struct dk_image_src *const *srcs, size_t n, const struct dk_transport_opts *o,
		      struct dk_err *err);

/* The blob cache directory for o (a new string). */
char *dk_cache_dir(const struct dk_transport_opts *o);

void dk_manifest_blob_free(struct dk_manifest_blob *m);

/* ------------------------------------------------------------ the table */

/* What a transport can do (struct dk_transport.caps). */
#define DK_TRANSPORT_SOURCE 1u  /* images can be read from it */
#define DK_TRANSPORT_DEST 2u    /* images can be written to it */
#define DK_TRANSPORT_MULTI 4u   /* what a reference names holds several images, told apart by tag */
#define DK_TRANSPORT_REMOTE 8u  /* a registry: blobs cross the network and can be mounted */
#define DK_TRANSPORT_BARE 16u   /* a reference without a prefix means this transport */
#define DK_TRANSPORT_INDEX 32u  /* holds image indexes: multi-platform images (put_child) */

/*
 * A row of the table in transport.c, one per transport.  A row without
 * callbacks is a transport known by name that derrick does not implement
 * (yet): naming it gives a clear error rather than a confusing parse.
 */
struct dk_transport {
	const char *name;       /* "oci": what a reference has before its first ':' */
	const char *prefix;     /* "oci:", "docker://": how a reference starts */
	unsigned caps;          /* DK_TRANSPORT_* */
	/* Fill r's fields from `rest`, the text after the prefix; `text` is the whole, for messages. */
	int (*parse)(const char *text, const char *rest, struct dk_ref *r, struct dk_err *err);
	/* r as text (new string), at `path` instead of r's when set, naming `tag` instead of r's when set. */
	char *(*format)(const struct dk_ref *r, const char *path, const char *tag);
	int (*src_open)(const struct dk_ref *ref, const struct dk_transport_opts *o, struct dk_image_src **out,
			struct dk_err *err);
	int (*dst_open)(const struct dk_ref *ref, const struct dk_transport_opts *o, struct dk_image_dst **out,
			struct dk_err *err);
};

/*
 * The row a reference's text names, and where the text after its prefix
 * starts: 0 and *t, *rest set (a bare REF gives the DK_TRANSPORT_BARE row
 * and the whole text), or -1 with DK_E_REF for a transport derrick does
 * not implement, a prefix written wrong, or a path without a transport.
 */
int dk_transport_find(const char *text, const struct dk_transport **t, const char **rest, struct dk_err *err);

/* The layout transport (src/transport/layout.c). */
/*
 * "PATH[:TAG]", the text after a prefix, into r->path and r->tag (PATH ends
 * at the first ':', as in skopeo; `noun` names PATH in the message when it
 * is empty): 0, or -1 with DK_E_REF.
 */
int dk_path_tag_parse(const char *text, const char *rest, const char *noun, struct dk_ref *r,
		      struct dk_err *err);
int dk_layout_parse(const char *text, const char *rest, struct dk_ref *r, struct dk_err *err);
char *dk_layout_format(const struct dk_ref *r, const char *path, const char *tag);
int dk_layout_src_open(const struct dk_ref *ref, const struct dk_transport_opts *o, struct dk_image_src **out,
		       struct dk_err *err);
int dk_layout_dst_open(const struct dk_ref *ref, const struct dk_transport_opts *o, struct dk_image_dst **out,
		       struct dk_err *err);

/* The registry transport (src/transport/registry.c). */
int dk_registry_parse(const char *text, const char *rest, struct dk_ref *r, struct dk_err *err);
char *dk_registry_format(const struct dk_ref *r, const char *path, const char *tag);
int dk_registry_src_open(const struct dk_ref *ref, const struct dk_transport_opts *o,
			 struct dk_image_src **out, struct dk_err *err);
int dk_registry_dst_open(const struct dk_ref *ref, const struct dk_transport_opts *o,
			 struct dk_image_dst **out, struct dk_err *err);

/*
 * The archive transports (src/transport/oci_archive.c, docker_archive.c;
 * the layout's format serves oci-archive too).  Writing one replaces its
 * file in one rename at the commit; reading one unpacks it into a private
 * directory under the cache, removed again when the source is closed.
 */
int dk_oci_archive_parse(const char *text, const char *rest, struct dk_ref *r, struct dk_err *err);
int dk_oci_archive_src_open(const struct dk_ref *ref, const struct dk_transport_opts *o,
			    struct dk_image_src **out, struct dk_err *err);
int dk_oci_archive_dst_open(const struct dk_ref *ref, const struct dk_transport_opts *o,
			    struct dk_image_dst **out, struct dk_err *err);
int dk_docker_archive_parse(const char *text, const char *rest, struct dk_ref *r, struct dk_err *err);
char *dk_docker_archive_format(const struct dk_ref *r, const char *path, const char *tag);
int dk_docker_archive_src_open(const struct dk_ref *ref, const struct dk_transport_opts *o,
			       struct dk_image_src **out, struct dk_err *err);
int dk_docker_archive_dst_open(const struct dk_ref *ref, const struct dk_transport_opts *o,
			       struct dk_image_dst **out, struct dk_err *err);

#endif
