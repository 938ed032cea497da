// Package vimeosource connects the vimeo client to the tree model: it is the
// only package that imports both. FromWalk maps the result of a vimeo walk
// onto tree records (folders, videos, placements) ready for tree.New or a
// tree.Store; the mirror's tree.Source implementation will live here too.
//
// The mapping: a folder's parent is the folder whose listing contained it (the
// walk's root becomes a top-level folder); positions in a listing become sort
// orders; Vimeo's privacy.view becomes the video's visibility; the unlisted
// hash becomes the embed key; a video's status is taken as the walk derived it
// from status and transcode.status.
package vimeosource
