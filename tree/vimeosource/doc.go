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
// The mapping: a folder's parent is the folder whose listing contained it (the
// walk's root becomes a top-level folder); positions in a listing become sort
// orders; Vimeo's privacy.view becomes the video's visibility; the unlisted
// hash becomes the embed key; a video's status is taken as the walk derived it
// from status and transcode.status.
package vimeosource
