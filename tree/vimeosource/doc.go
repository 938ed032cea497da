// Package vimeosource connects the vimeo client to the tree model: it is the
// only package that imports both. FromWalk maps the result of a vimeo walk
// onto tree records (folders, videos, placements) ready for tree.New or a
// tree.Store. Source (New) is the mirror's tree.Source over a vimeo.Client for
// one root folder: Walk is vimeo's walk (Complete only when it is complete and
// consistent), Video and Folder are single reads (404 and 403 wrap
// tree.ErrNotFound and tree.ErrForbidden; a video whose answer names no
// parent is ErrNoParent, never "outside the root"), and Changes is the recent
// poll: the videos list with If-Modified-Since every time (one call when
// nothing changed) and the folder list, which has no conditional request, at
// most every FolderPollInterval.
//
// The mapping is one function per record, FromVideo and FromFolder, whether
// the record was walked, read on its own or polled: Vimeo's privacy.view
// becomes the video's visibility, the unlisted hash the embed key, the widest
// thumbnail the thumbnail URL, and the status is vimeo.Video.State (derived
// from status, upload.status and transcode.status). A walk only adds where
// it found each object: a folder's parent is the folder whose listing
// contained it (the walk's root becomes a top-level folder), and positions in
// a listing become sort orders.
package vimeosource
