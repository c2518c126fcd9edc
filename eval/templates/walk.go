package templates

import (
	texttemplate "text/template"
	"text/template/parse"

	promtemplate "github.com/alertd/alertd/eval/templates/internal/template"
)

// usesEnv reports whether any template of t's set may call a function
// whose result depends on the Env. Functions can be named only by
// identifiers in the parse trees, so this finds every call; an unknown
// node type counts as a use.
func usesEnv(t *texttemplate.Template) bool {
	for _, tt := range t.Templates() {
		if tt.Tree != nil && nodeUsesEnv(tt.Root) {
			return true
		}
	}
	return false
}

func nodeUsesEnv(n parse.Node) bool {
	switch n := n.(type) {
	case nil:
		return false
	case *parse.ListNode:
		if n == nil {
			return false
		}
		for _, c := range n.Nodes {
			if nodeUsesEnv(c) {
				return true
			}
		}
		return false
	case *parse.ActionNode:
		return nodeUsesEnv(n.Pipe)
	case *parse.PipeNode:
		if n == nil {
			return false
		}
		for _, c := range n.Cmds {
			if nodeUsesEnv(c) {
				return true
			}
		}
		return false
	case *parse.CommandNode:
		for _, c := range n.Args {
			if nodeUsesEnv(c) {
				return true
			}
		}
		return false
	case *parse.IdentifierNode:
		return promtemplate.IsEnvFunc(n.Ident)
	case *parse.ChainNode:
		return nodeUsesEnv(n.Node)
	case *parse.IfNode:
		return branchUsesEnv(&n.BranchNode)
	case *parse.RangeNode:
		return branchUsesEnv(&n.BranchNode)
	case *parse.WithNode:
		return branchUsesEnv(&n.BranchNode)
	case *parse.TemplateNode:
		return nodeUsesEnv(n.Pipe)
	case *parse.TextNode, *parse.CommentNode, *parse.VariableNode, *parse.FieldNode,
		*parse.DotNode, *parse.NilNode, *parse.BoolNode, *parse.NumberNode,
		*parse.StringNode, *parse.BreakNode, *parse.ContinueNode:
		return false
	default:
		return true
	}
}

func branchUsesEnv(b *parse.BranchNode) bool {
	return nodeUsesEnv(b.Pipe) || nodeUsesEnv(b.List) || nodeUsesEnv(b.ElseList)
}
